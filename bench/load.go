package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The machine's load average: how many threads, on average over the last
// minute, were running or waiting for a processor. The command reads it
// before the first scenario and after each one. Above the number of
// processors, threads were queueing for them: other programs took
// processor time from the rounds (the command's own rounds count too, one
// or two threads in most scenarios), and the figures of that stretch are
// noisier than usual.

// errNoLoad says that this system does not tell its load average here.
var errNoLoad = errors.New("bench: the load average is read from /proc/loadavg, which this system does not have")

// readLoadAvg returns the load average over the last minute, from Linux's
// /proc/loadavg.
func readLoadAvg() (float64, error) {
	data, err := os.ReadFile("/proc/loadavg")
	if errors.Is(err, os.ErrNotExist) {
		return 0, errNoLoad
	}
	if err != nil {
		return 0, err
	}
	return parseLoadAvg(string(data))
}

// parseLoadAvg reads the first field of /proc/loadavg's line, "0.52 0.58
// 0.59 1/467 12345".
func parseLoadAvg(line string) (float64, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return 0, fmt.Errorf("bench: /proc/loadavg is empty")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bench: /proc/loadavg: %q is not a load average", fields[0])
	}
	return v, nil
}

// A loadWatch keeps the load averages read during a run.
type loadWatch struct {
	read func() (float64, error)
	info loadInfo
}

func newLoadWatch(read func() (float64, error), cpus int) *loadWatch {
	w := &loadWatch{read: read, info: loadInfo{CPUs: cpus}}
	w.sample()
	return w
}

// sample reads the load average and returns it, or nil when it cannot be
// read; the first error is kept in the results.
func (w *loadWatch) sample() *float64 {
	v, err := w.read()
	if err != nil {
		if w.info.Error == "" {
			w.info.Error = err.Error()
		}
		return nil
	}
	if !w.info.Known {
		w.info.Known, w.info.Start, w.info.Min = true, v, v
	}
	w.info.Min, w.info.Max, w.info.End = min(w.info.Min, v), max(w.info.Max, v), v
	return &v
}

// highLoad says whether a load average means that threads queued for the
// processors: it is above their number.
func highLoad(v float64, cpus int) bool { return v > float64(cpus) }
