package main

import (
	"errors"
	"slices"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/scheduler"
)

// The cooperate suite: what a step of a cooperative task costs over the
// plain loop it replaces, on a ManualClock so that only the Cooperator is
// timed, as in bench/twisted/cooperate_bench.py.
func cooperateSuite() suite {
	twisted := &script{
		comparison: "twisted",
		file:       "twisted/cooperate_bench.py",
		args: func(cfg *config) []string {
			if cfg.quick {
				return []string{"--slices", "5"}
			}
			return []string{"--slices", "20"}
		},
	}
	return suite{
		name: "cooperate",
		doc:  "Cooperator step overhead: Each and Cooperate against a plain loop",
		scenarios: []scenario{
			{
				name:         "each_trivial",
				doc:          "Each over 1M values with a body that adds to a sum",
				metrics:      []metric{timeMetric("step", "coiterate_trivial")},
				twine:        micro(eachOver(1<<20, trivial)),
				baseline:     micro(plainOver(1<<20, trivial)),
				baselineName: "plain for loop",
				other:        twisted.round("coiterate_trivial"),
			},
			{
				name:         "each_1us",
				doc:          "Each over 32K values with a body of about 1 µs",
				metrics:      []metric{timeMetric("step", "")},
				twine:        micro(eachOver(1<<15, spin)),
				baseline:     micro(plainOver(1<<15, spin)),
				baselineName: "plain for loop",
			},
			{
				name:         "cooperate_1_task",
				doc:          "Cooperate, one endless task yielding nil; per step",
				metrics:      []metric{timeMetric("step", "cooperate_1_task")},
				twine:        cooperateSlices(1),
				baseline:     micro(plainNils),
				baselineName: "plain range over the iterator",
				other:        twisted.round("cooperate_1_task"),
			},
			{
				name:         "cooperate_100_tasks",
				doc:          "Cooperate, 100 such tasks taking turns; per step",
				metrics:      []metric{timeMetric("step", "cooperate_100_tasks")},
				twine:        cooperateSlices(100),
				baseline:     micro(plainNils),
				baselineName: "plain range over the iterator",
				other:        twisted.round("cooperate_100_tasks"),
			},
		},
	}
}

// trivial is a loop body that does almost nothing.
//
//go:noinline
func trivial(v int) error {
	busySink += uint64(v)
	return nil
}

// spin is a loop body that computes for about a microsecond.
//
//go:noinline
func spin(v int) error {
	x := uint64(v) | 1
	for range 550 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	busySink += x & 1
	return nil
}

// plainOver walks values values with a plain for loop per operation.
func plainOver(values int, f func(int) error) opFunc {
	seq := slices.Values(make([]int, values))
	return func(n int) (int, error) {
		for range n {
			for v := range seq {
				if err := f(v); err != nil {
					return 0, err
				}
			}
		}
		return n * values, nil
	}
}

var errNoSteps = errors.New("cooperate: the tasks took no step")

// eachOver walks values values with Each per operation, advancing a
// ManualClock until the task is done.
func eachOver(values int, f func(int) error) opFunc {
	seq := slices.Values(make([]int, values))
	return func(n int) (int, error) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLogger(quietLogger))
		defer c.Stop()
		for range n {
			done := cooperate.Each(c, seq, f).Done()
			for !done.Called() {
				clock.Advance(time.Millisecond)
			}
			if _, err := done.Result(); err != nil {
				return 0, err
			}
		}
		return n * values, nil
	}
}

// cooperateSlices runs tasks endless tasks yielding nil on one Cooperator
// for the scenario's rounds, and times its slices, one per operation, per
// step taken. Two slices run first, untimed: they size the tasks' turns.
func cooperateSlices(tasks int) starter {
	return func(cfg *config) (*side, error) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLogger(quietLogger))
		m := newMeter(cfg.target)
		steps := 0
		for range tasks {
			c.Cooperate(func(yield func(any) bool) {
				for yield(nil) {
					steps++
				}
			})
		}
		clock.Advance(time.Millisecond)
		clock.Advance(time.Millisecond)
		round := func() (sample, error) {
			t, err := m.time(func(n int) (int, error) {
				steps = 0
				for range n {
					clock.Advance(time.Millisecond)
				}
				if steps == 0 {
					return 0, errNoSteps
				}
				return steps, nil
			})
			if err != nil {
				return sample{}, err
			}
			return t.perUnit(), nil
		}
		return &side{round: round, close: func() error { c.Stop(); return nil }}, nil
	}
}

// nils yields nil for ever, the cheapest task.
func nils(yield func(any) bool) {
	for yield(nil) {
	}
}

// plainNils ranges over nils directly, counting as the tasks do.
func plainNils(n int) (int, error) {
	steps := 0
	for range nils {
		if steps++; steps >= n {
			break
		}
	}
	return steps, nil
}
