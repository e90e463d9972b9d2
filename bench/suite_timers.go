package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twinego/twine/scheduler"
)

// The timers suite: the reactor's CallLater against the runtime's own
// timers, as in bench/twisted/reactor_bench.py.
func timersSuite() suite {
	twisted := &script{comparison: "twisted", file: "twisted/reactor_bench.py"}
	return suite{
		name: "timers",
		doc:  "Timers: CallLater against time.AfterFunc",
		scenarios: []scenario{
			{
				name:         "calllater_cancel",
				doc:          "CallLater(1s) and Cancel, on the reactor goroutine",
				metrics:      []metric{timeMetric("op", "calllater_cancel")},
				twine:        withReactor(callLaterCancel(0)),
				baseline:     afterFuncStop(0),
				baselineName: "time.AfterFunc",
				other:        twisted.round("calllater_cancel"),
			},
			{
				name:         "calllater_cancel_10k",
				doc:          "the same with 10,000 other timers pending",
				metrics:      []metric{timeMetric("op", "calllater_cancel_10k")},
				twine:        withReactor(callLaterCancel(10_000)),
				baseline:     afterFuncStop(10_000),
				baselineName: "time.AfterFunc",
				other:        twisted.round("calllater_cancel_10k"),
			},
			{
				name: "timers_100k",
				doc:  "100,000 timers due at random in 0-100 ms, all run; processor time and wall time per round",
				metrics: []metric{
					{key: "cpu", label: "cpu", kind: kindTime, per: "op", other: "timers_100k_cpu"},
					{key: "time", label: "wall", kind: kindTime, per: "op", other: "timers_100k_wall"},
				},
				twine:        withReactor(manyCallLater),
				baseline:     manyAfterFunc(),
				baselineName: "time.AfterFunc",
				other:        twisted.round("timers_100k"),
			},
		},
	}
}

func nothing() {}

// callLaterCancel schedules and cancels calls on the reactor goroutine,
// with pending other calls waiting an hour.
func callLaterCancel(pending int) func(*config, *runningReactor, *meter) (sample, error) {
	return func(cfg *config, r *runningReactor, m *meter) (sample, error) {
		others := make([]scheduler.Call, pending)
		r.call(func() {
			for i := range others {
				others[i] = r.CallLater(time.Hour+time.Duration(i), nothing)
			}
		})
		var cancelErr error
		t, err := m.time(func(n int) (int, error) {
			r.call(func() {
				for range n {
					if err := r.CallLater(time.Second, nothing).Cancel(); err != nil {
						cancelErr = err
					}
				}
			})
			return n, cancelErr
		})
		r.call(func() {
			for _, c := range others {
				_ = c.Cancel()
			}
		})
		return t.perUnit(), err
	}
}

// afterFuncStop starts and stops runtime timers, with pending other timers
// waiting an hour for the scenario's rounds.
func afterFuncStop(pending int) starter {
	return func(cfg *config) (*side, error) {
		others := make([]*time.Timer, pending)
		for i := range others {
			others[i] = time.AfterFunc(time.Hour+time.Duration(i), nothing)
		}
		s, err := micro(perOp(1, func() error {
			if !time.AfterFunc(time.Second, nothing).Stop() {
				return fmt.Errorf("time.AfterFunc: Stop found the timer gone")
			}
			return nil
		}))(cfg)
		if err != nil {
			return nil, err
		}
		s.close = func() error {
			for _, t := range others {
				t.Stop()
			}
			return nil
		}
		return s, nil
	}
}

// manyTimers is how many timers one round of timers_100k schedules.
const manyTimers = 100_000

// randomDelays returns the delays of timers_100k, the same every time.
func randomDelays() []time.Duration {
	rng := rand.New(rand.NewPCG(7, 11))
	ds := make([]time.Duration, manyTimers)
	for i := range ds {
		ds[i] = time.Duration(rng.Int64N(int64(100 * time.Millisecond)))
	}
	return ds
}

// manyTimersSample reports the wall and processor time per round.
func manyTimersSample(t timing) sample {
	s := t.perUnit()
	s.values["cpu"] = float64(t.cpu.Nanoseconds()) / float64(t.ops)
	return s
}

// manyCallLater schedules the timers from the reactor goroutine, as
// callbacks do, and ends a round when the last has run, checking that they
// ran in the order they were due.
func manyCallLater(_ *config, r *runningReactor, m *meter) (sample, error) {
	delays := randomDelays()
	t, err := m.time(func(n int) (int, error) {
		for range n {
			done := make(chan error, 1)
			r.CallSoon(func() {
				left := len(delays)
				var last time.Time
				var order error
				for _, d := range delays {
					var c scheduler.Call
					c = r.CallLater(d, func() {
						if w := c.When(); w.Before(last) && order == nil {
							order = fmt.Errorf("timers_100k: a call due at %v ran after one due at %v", w, last)
						} else {
							last = w
						}
						if left--; left == 0 {
							done <- order
						}
					})
				}
			})
			if err := <-done; err != nil {
				return 0, err
			}
		}
		return n, nil
	})
	if err != nil {
		return sample{}, err
	}
	return manyTimersSample(t), nil
}

func manyAfterFunc() starter {
	return func(cfg *config) (*side, error) {
		delays := randomDelays()
		m := newMeter(cfg.target)
		return &side{round: func() (sample, error) {
			t, err := m.time(func(n int) (int, error) {
				for range n {
					var wg sync.WaitGroup
					wg.Add(len(delays))
					for _, d := range delays {
						time.AfterFunc(d, wg.Done)
					}
					wg.Wait()
				}
				return n, nil
			})
			if err != nil {
				return sample{}, err
			}
			return manyTimersSample(t), nil
		}}, nil
	}
}
