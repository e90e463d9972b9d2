package reactor

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
)

// stackTrace is a goroutine's stack as the reactor logs it: one entry per
// call, innermost first, each "pkg.Func (file.go:12)", without the
// reactor's own loop below the callback and without the frames of the code
// that took the stack. A stack read with runtime.Stack is a block of
// indented lines; every slog handler escapes its newlines and tabs, so that
// the log showed one long line of "\n\t". This form reads on one line.
//
// Text handlers print it as its String, the calls separated by "; "; JSON
// handlers as an array of strings.
type stackTrace []string

// reactorPkg prefixes the full names of this package's functions.
const reactorPkg = "github.com/twinego/twine/reactor."

// stackValue turns a stack from runtime.Stack or debug.Stack (one
// goroutine's) into a stackTrace.
func stackValue(stack []byte) stackTrace {
	frames, _ := parseStack(stack)
	return frames
}

// parseStack turns a stack into a stackTrace, and also returns the
// callback the reactor's loop runs in it: the outermost call above the loop
// that is not the reactor's own (a trigger's function rather than the code
// that fires the event), or "" if the stack does not show the loop.
func parseStack(stack []byte) (frames stackTrace, callback string) {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	for i := 0; i < len(lines); i++ {
		fn := strings.TrimSpace(lines[i])
		if fn == "" || strings.HasPrefix(fn, "goroutine ") {
			continue
		}
		where := ""
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
			i++
			where = fileLine(lines[i])
		}
		full, created := strings.CutPrefix(fn, "created by ")
		full = funcName(full)
		switch full {
		case "runtime/debug.Stack", "runtime.Stack":
			continue // the code that took the stack
		case "runtime.Goexit", "panic", "runtime.gopanic":
			// Everything above is the reactor's deferred call that took
			// the stack: the goroutine's own calls start here.
			frames, callback = frames[:0], ""
		case reactorPkg + "(*Reactor).runOne":
			return frames, callback // the reactor's loop, below the callback
		}
		name := full[strings.LastIndexByte(full, '/')+1:]
		if created {
			name = "created by " + name
		}
		if where != "" {
			name += " (" + where + ")"
		}
		frames = append(frames, name)
		if !strings.HasPrefix(full, reactorPkg) {
			callback = name
		}
	}
	return frames, ""
}

// funcName turns a stack line's function ("github.com/a/b.(*T).M(0xc0, ...)")
// into its full name ("github.com/a/b.(*T).M").
func funcName(s string) string {
	if i := strings.LastIndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i] // the arguments
	}
	if i := strings.Index(s, " in goroutine "); i >= 0 {
		s = s[:i]
	}
	return s
}

// fileLine turns a stack line's place ("\t/src/x/file.go:12 +0x1f") into
// "file.go:12".
func fileLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, " +0x"); i >= 0 {
		s = s[:i]
	}
	return filepath.Base(s)
}

// String returns the calls separated by "; ".
func (s stackTrace) String() string { return strings.Join(s, "; ") }

// MarshalText is what slog's text handlers print.
func (s stackTrace) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON makes JSON handlers print an array of calls.
func (s stackTrace) MarshalJSON() ([]byte, error) { return json.Marshal([]string(s)) }

// goroutineStack returns the stack of goroutine id, from a dump of every
// goroutine, and false if the dump has no such goroutine.
func goroutineStack(all []byte, id uint64) ([]byte, bool) {
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	i := bytes.Index(all, head)
	if i < 0 {
		return nil, false
	}
	s := all[i:]
	if j := bytes.Index(s, []byte("\n\n")); j >= 0 {
		s = s[:j]
	}
	return s, true
}
