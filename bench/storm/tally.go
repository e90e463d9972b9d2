package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// tally is what became of a storm's tasks and kills.
type tally struct {
	tasks                        int
	kills, before, after, missed int
	once, lost, twice            int
	succeeded, failed            int
	killedWith                   int               // failed with a worker the storm killed
	other                        map[string]int    // failed for another reason, by reason
	otherExample                 map[string]string // an error of each such reason
	panics                       int               // caught by the reactor, other than second firings
	stalled                      bool              // the wait for the Deferreds gave up
	closeErr                     error
	elapsed                      time.Duration
}

// ok reports whether the storm lost nothing: every task fired once, and
// failed only with a worker that the storm killed.
func (t *tally) ok() bool {
	return t.lost == 0 && t.twice == 0 && t.panics == 0 && len(t.other) == 0 && t.closeErr == nil
}

// write prints the tallies, one a line.
func (t *tally) write(w io.Writer) {
	line := func(indent int, label string, n int, note string) {
		fmt.Fprintf(w, "%s%-*s %9d%s\n", strings.Repeat("  ", indent), 40-2*indent, label, n, note)
	}
	line(0, "tasks", t.tasks, "")
	line(0, "kills", t.kills, "")
	line(1, "before the handshake", t.before, "")
	line(1, "while running (after the handshake)", t.after, "")
	line(1, "missed (the worker had ended)", t.missed, "")
	line(0, "fired once", t.once, "")
	lost := ""
	if t.stalled {
		lost = "  (gave up waiting for them)"
	}
	line(0, "lost", t.lost, lost)
	line(0, "fired twice", t.twice, "")
	if t.panics > 0 {
		line(0, "panics caught by the reactor", t.panics, "")
	}
	line(0, "succeeded", t.succeeded, "")
	line(0, "failed", t.failed, "")
	line(1, "with a worker the storm killed", t.killedWith, "")
	for _, reason := range sortedKeys(t.other) {
		line(1, reason, t.other[reason], "")
		fmt.Fprintf(w, "      e.g. %s\n", firstLine(t.otherExample[reason]))
	}
	if t.closeErr != nil {
		fmt.Fprintf(w, "Close: %v\n", t.closeErr)
	}
	if t.elapsed > 0 {
		fmt.Fprintf(w, "took %v\n", t.elapsed.Round(time.Millisecond))
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
