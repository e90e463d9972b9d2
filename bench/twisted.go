package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Twisted scripts travel inside the command, so that it finds them
// wherever it runs from; they are written to a temporary directory for a
// run with -compare twisted.
//
//go:embed twisted/*.py
var twistedScripts embed.FS

// twistedInstall is how to get what -compare twisted needs.
const twistedInstall = "apt-get install python3-twisted (Debian, Ubuntu), or name an interpreter that has Twisted with -python"

// A twistedEnv is a Python interpreter that can import Twisted, and the
// directory the scripts were written to.
type twistedEnv struct {
	python  string
	version string
	dir     string
}

// findTwisted checks that python runs and can import twisted, and returns
// Twisted's version. The error says which of the two failed.
func findTwisted(ctx context.Context, python string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := exec.LookPath(python); err != nil {
		return "", fmt.Errorf("no Python interpreter at %s (%w)", python, err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "-c", "import twisted; print(twisted.__version__)")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s cannot import twisted (%s)", python, msg)
	}
	return strings.TrimSpace(string(out)), nil
}

// lastLine returns the last non-blank line of s, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// writeScripts writes the embedded Twisted scripts to dir.
func writeScripts(dir string) error {
	entries, err := twistedScripts.ReadDir("twisted")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := twistedScripts.ReadFile("twisted/" + e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// A twistedFigure is one line of a Twisted script's output.
type twistedFigure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// parseTwisted reads a Twisted script's output: one figure per line,
// "name value [unit]", the unit ns/op when left out. Blank lines and lines
// starting with # are skipped. A line that does not parse is an error, but
// the figures of the other lines are returned with it.
func parseTwisted(r io.Reader) (map[string]twistedFigure, error) {
	figures := map[string]twistedFigure{}
	var errs []error
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 || len(fields) > 3 {
			errs = append(errs, fmt.Errorf("line %d: want \"name value [unit]\", got %q", line, text))
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: value %q is not a number", line, fields[1]))
			continue
		}
		unit := "ns/op"
		if len(fields) == 3 {
			unit = fields[2]
		}
		figures[fields[0]] = twistedFigure{Name: fields[0], Value: v, Unit: unit}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return figures, errors.Join(errs...)
}

// timeUnits are the time units the scripts may print, in nanoseconds.
var timeUnits = map[string]float64{"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}

// convert returns the figure in m's unit: nanoseconds for a time, a
// percentage for a percentage. A figure of another kind, or a time per
// another unit of work ("ns/call" for a metric per "op"), is an error.
func (f twistedFigure) convert(m metric) (float64, error) {
	if m.kind == kindPercent {
		if f.Unit != "%" {
			return 0, fmt.Errorf("twisted figure %s is in %s, not %%", f.Name, f.Unit)
		}
		return f.Value, nil
	}
	scale, per, _ := strings.Cut(f.Unit, "/")
	ns, ok := timeUnits[scale]
	if !ok {
		return 0, fmt.Errorf("twisted figure %s is in %s, not a time", f.Name, f.Unit)
	}
	if per != m.per {
		return 0, fmt.Errorf("twisted figure %s is in %s, twine's in %s", f.Name, f.Unit, m.unit())
	}
	return f.Value * ns, nil
}

// runScript runs one Twisted script and returns its figures. The script's
// lines go to progress as they come; BENCH_REPEAT tells it how many runs to
// take the median of.
func (env *twistedEnv) runScript(ctx context.Context, s twistedScript, cfg *config, progress io.Writer) (map[string]twistedFigure, error) {
	args := append([]string{filepath.Join(env.dir, s.file)}, s.args(cfg)...)
	cmd := exec.CommandContext(ctx, env.python, args...)
	cmd.Env = append(os.Environ(), "BENCH_REPEAT="+strconv.Itoa(cfg.runs), "PYTHONUNBUFFERED=1")
	var out bytes.Buffer
	var stderr bytes.Buffer
	echo := &prefixWriter{w: progress, prefix: "        twisted: "}
	cmd.Stdout = io.MultiWriter(&out, echo)
	cmd.Stderr = io.MultiWriter(&stderr, echo)
	err := cmd.Run()
	echo.flush()
	figures, perr := parseTwisted(&out)
	if err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return figures, fmt.Errorf("%s: %s", s.file, msg)
	}
	if perr != nil {
		return figures, fmt.Errorf("%s: %w", s.file, perr)
	}
	return figures, nil
}

// A prefixWriter writes whole lines to w, each after prefix.
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	partial []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.partial[:i])
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

// flush writes what is left of an unfinished line.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.partial) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.partial)
		p.partial = nil
	}
}
