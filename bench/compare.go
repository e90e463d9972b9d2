package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A comparison is a project outside Go that measures some scenarios beside
// twine, in Python scripts under bench/: -compare names it.
type comparison struct {
	name  string // as -compare names it: "twisted"
	label string // its column's title: "Twisted"
	// module is the Python module that its scripts need; its __version__ is
	// the version reported.
	module string
	// install says how to get it, when it is missing.
	install string
}

// comparisons are the projects -compare can name. To add one, add it
// here, and its scripts under a directory of bench/ that scripts embeds.
var comparisons = []comparison{{
	name:    "twisted",
	label:   "Twisted",
	module:  "twisted",
	install: "apt-get install python3-twisted (Debian, Ubuntu), or name an interpreter that has Twisted with -python",
}}

// findComparison returns the comparison that -compare names name.
func findComparison(name string) (comparison, bool) {
	for _, c := range comparisons {
		if c.name == name {
			return c, true
		}
	}
	return comparison{}, false
}

// comparisonNames returns the names -compare knows, quoted.
func comparisonNames() string {
	names := make([]string, len(comparisons))
	for i, c := range comparisons {
		names[i] = strconv.Quote(c.name)
	}
	return strings.Join(names, ", ")
}

// The scripts travel inside the command, so that it finds them wherever
// it runs from; they are written to a temporary directory, in the same
// layout, for a run with -compare. python/ holds bench_rounds.py, which
// every script imports, and scripts of comparisons that need Python alone.
//
//go:embed twisted/*.py python/*.py
var scripts embed.FS

// A script is a program under bench/ that measures scenarios outside Go.
// Run with --serve, it is a server of rounds: the command writes it the
// name of a round, one per line, and it makes that round and answers with
// its figures, one line each, "name value unit", then a line "end"; or a
// line "error message" if the round failed. It warms a scenario up before
// the first round of it, untimed. It ends when its standard input does.
// bench/python/bench_rounds.py does all this for a Python script.
type script struct {
	comparison string // the comparison the script belongs to: "twisted"
	file       string // its path under bench/: "twisted/deferred_bench.py"
	// args, when not nil, gives its arguments beside --serve.
	args func(cfg *config) []string
}

// round returns the script's round named name, for a scenario's other.
func (s *script) round(name string) *otherRound { return &otherRound{script: s, name: name} }

// An otherRound is a round of a script: what measures a scenario outside
// Go.
type otherRound struct {
	script *script
	name   string
}

// A comparer runs the scripts of the comparisons that -compare names and
// that could be found.
type comparer struct {
	// command makes the command that serves a script's rounds: the
	// script under dir run by python with --serve and args.
	command func(file string, args []string) *exec.Cmd
	python  string
	dir     string          // where the scripts were written
	found   map[string]bool // the comparisons that can run
	labels  map[string]string
	// servers are the scripts running for the current suite, by file and
	// arguments.
	servers map[string]*server
	// failed are the scripts that could not start or whose server ended,
	// with the error, so that later scenarios do not start them again.
	failed map[string]error
}

// newComparer finds the comparisons that cfg.compare names and writes the
// scripts to a temporary directory. It records in res what it found. It
// returns nil when nothing is to be compared; a comparison that cannot run
// is said to progress, with how to get it, and the run goes on without it.
func newComparer(ctx context.Context, cfg *config, res *results, progress io.Writer) *comparer {
	names := compareList(cfg.compare)
	if len(names) == 0 {
		return nil
	}
	c := &comparer{python: cfg.python, found: map[string]bool{}, labels: map[string]string{},
		servers: map[string]*server{}, failed: map[string]error{}}
	c.command = func(file string, args []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, c.python, append([]string{filepath.Join(c.dir, filepath.FromSlash(file)), "--serve"}, args...)...)
		cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "PYTHONPATH="+filepath.Join(c.dir, "python"))
		return cmd
	}
	var writeErr error
	for _, name := range names {
		cmp, _ := findComparison(name)
		info := comparisonInfo{Name: cmp.name, Label: cmp.label, Python: cfg.python}
		version, err := findModule(ctx, cfg.python, cmp.module)
		if err == nil && c.dir == "" && writeErr == nil {
			if c.dir, writeErr = os.MkdirTemp("", "twine-bench-scripts-"); writeErr == nil {
				if writeErr = writeScripts(c.dir); writeErr != nil {
					_ = os.RemoveAll(c.dir)
					c.dir = ""
				}
			}
		}
		if err == nil {
			err = writeErr
		}
		if err != nil {
			info.Error = err.Error()
			fmt.Fprintf(progress, "bench: -compare %s: %v.\n", cmp.name, err)
			fmt.Fprintf(progress, "bench: the %s column is left out; to have it, %s.\n", cmp.label, cmp.install)
		} else {
			info.Available, info.Version = true, version
			c.found[cmp.name] = true
			fmt.Fprintf(progress, "bench: comparing with %s %s (%s)\n", cmp.label, version, cfg.python)
		}
		c.labels[cmp.name] = cmp.label
		res.Comparisons = append(res.Comparisons, info)
	}
	return c
}

// compareList splits -compare's comma-separated list.
func compareList(list string) []string {
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// label returns the column title of the comparison a round belongs to.
func (c *comparer) label(o *otherRound) string { return c.labels[o.script.comparison] }

// start returns the server of the round's script, starting it for the
// current suite if it does not run yet; an error if its comparison is not
// available or it failed before.
func (c *comparer) start(cfg *config, o *otherRound, progress io.Writer) (*server, error) {
	if c == nil || !c.found[o.script.comparison] {
		return nil, errNotCompared
	}
	var args []string
	if o.script.args != nil {
		args = o.script.args(cfg)
	}
	key := o.script.file + "\x00" + strings.Join(args, "\x00")
	if err := c.failed[key]; err != nil {
		return nil, err
	}
	if s := c.servers[key]; s != nil {
		return s, nil
	}
	s, err := startServer(c.command(o.script.file, args), o.script.file, progress)
	if err != nil {
		c.failed[key] = err
		return nil, err
	}
	c.servers[key] = s
	return s, nil
}

// errNotCompared: the round's comparison was not asked for, or cannot run.
var errNotCompared = errors.New("bench: not compared")

// fail marks the server as failed: later scenarios do not ask it again.
func (c *comparer) fail(s *server, err error) {
	for key, running := range c.servers {
		if running == s {
			c.failed[key] = err
			delete(c.servers, key)
			_ = s.close()
		}
	}
}

// writeLogs writes to progress what the servers wrote to standard error
// since the last call: after a scenario's line, so as not to break it.
func (c *comparer) writeLogs(progress io.Writer) {
	if c == nil {
		return
	}
	for _, s := range c.servers {
		s.log.writeTo(progress)
	}
}

// endSuite stops the servers started for a suite.
func (c *comparer) endSuite(progress io.Writer) {
	if c == nil {
		return
	}
	for key, s := range c.servers {
		if err := s.close(); err != nil {
			fmt.Fprintf(progress, "bench: %s: %v\n", s.file, err)
		}
		delete(c.servers, key)
	}
}

// close stops the servers and removes the scripts.
func (c *comparer) close(progress io.Writer) {
	if c == nil {
		return
	}
	c.endSuite(progress)
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// findModule checks that python runs and can import module, and returns
// the module's version. The error says which of the two failed.
func findModule(ctx context.Context, python, module string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := exec.LookPath(python); err != nil {
		return "", fmt.Errorf("no Python interpreter at %s (%w)", python, err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "-c", fmt.Sprintf("import %s; print(%s.__version__)", module, module))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s cannot import %s (%s)", python, module, msg)
	}
	return strings.TrimSpace(string(out)), nil
}

// lastLine returns the last non-blank line of s, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// writeScripts writes the embedded scripts to dir, in their directories.
func writeScripts(dir string) error {
	return fs.WalkDir(scripts, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := scripts.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// A figure is one line of a script's answer: "name value [unit]".
type figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// parseFigure reads one line of a script's answer, "name value [unit]",
// the unit ns/op when left out.
func parseFigure(text string) (figure, error) {
	fields := strings.Fields(text)
	if len(fields) < 2 || len(fields) > 3 {
		return figure{}, fmt.Errorf("want \"name value [unit]\", got %q", text)
	}
	v, err := strconv.ParseFloat(fields[1], 64)
	if err != nil {
		return figure{}, fmt.Errorf("value %q is not a number", fields[1])
	}
	unit := "ns/op"
	if len(fields) == 3 {
		unit = fields[2]
	}
	return figure{Name: fields[0], Value: v, Unit: unit}, nil
}

// timeUnits are the time units the scripts may print, in nanoseconds.
var timeUnits = map[string]float64{"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}

// convert returns the figure in m's unit: nanoseconds for a time, a
// percentage for a percentage. A figure of another kind, or a time per
// another unit of work ("ns/call" for a metric per "op"), is an error.
func (f figure) convert(m metric) (float64, error) {
	if m.kind == kindPercent {
		if f.Unit != "%" {
			return 0, fmt.Errorf("figure %s is in %s, not %%", f.Name, f.Unit)
		}
		return f.Value, nil
	}
	scale, per, _ := strings.Cut(f.Unit, "/")
	ns, ok := timeUnits[scale]
	if !ok {
		return 0, fmt.Errorf("figure %s is in %s, not a time", f.Name, f.Unit)
	}
	if per != m.per {
		return 0, fmt.Errorf("figure %s is in %s, twine's in %s", f.Name, f.Unit, m.unit())
	}
	return f.Value * ns, nil
}

// roundWait bounds one round of a script: longer means it hangs.
const roundWait = 5 * time.Minute

// A server is a script running with --serve (see [script]).
type server struct {
	file  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its standard output, a line at a time; closed at its end
	done  chan struct{}
	// log keeps what it writes to standard error until the command's own
	// goroutine passes it on to the progress, after a scenario.
	log      *lineLog
	progress io.Writer

	closeOnce sync.Once
	closeErr  error
}

// startServer starts cmd as the server of the script file. What it writes
// to standard error goes to progress when the comparer's writeLogs asks,
// or when it ends.
func startServer(cmd *exec.Cmd, file string, progress io.Writer) (*server, error) {
	s := &server{file: file, cmd: cmd, lines: make(chan string, 16), done: make(chan struct{}),
		log: &lineLog{prefix: "        " + file + ": "}, progress: progress}
	cmd.Stderr = s.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	s.stdin = stdin
	go func() {
		defer close(s.done)
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	return s, nil
}

// round asks the server for a round and returns its figures by name.
func (s *server) round(ctx context.Context, name string) (map[string]figure, error) {
	if _, err := fmt.Fprintln(s.stdin, name); err != nil {
		return nil, s.ended(err)
	}
	timeout := time.NewTimer(roundWait)
	defer timeout.Stop()
	figures := map[string]figure{}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			return nil, fmt.Errorf("%s: round %s took longer than %v", s.file, name, roundWait)
		case line, ok := <-s.lines:
			if !ok {
				return nil, s.ended(nil)
			}
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case line == "end":
				return figures, nil
			case strings.HasPrefix(line, "error "):
				return nil, fmt.Errorf("%s: round %s: %s", s.file, name, strings.TrimPrefix(line, "error "))
			default:
				f, err := parseFigure(line)
				if err != nil {
					return nil, fmt.Errorf("%s: round %s: %w", s.file, name, err)
				}
				figures[f.Name] = f
			}
		}
	}
}

// running says whether the server still answers: it has not closed its
// output.
func (s *server) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// ended returns why the server stopped answering: its last words on
// standard error, or err.
func (s *server) ended(err error) error {
	_ = s.close()
	msg := s.log.last()
	if msg == "" && err != nil {
		msg = err.Error()
	}
	if msg == "" {
		msg = "it ended without a word"
	}
	return fmt.Errorf("%s: %s", s.file, msg)
}

// close ends the server's input and waits for it to end, killing it if it
// has not ended within closeWait. It returns the script's last words if it
// failed; a second call returns what the first did.
func (s *server) close() error {
	s.closeOnce.Do(func() {
		_ = s.stdin.Close()
		// What it still writes is read and dropped, so that the reading
		// goroutine ends.
		kill := time.NewTimer(closeWait)
		defer kill.Stop()
		for open := true; open; {
			select {
			case _, open = <-s.lines:
			case <-kill.C:
				_ = s.cmd.Process.Kill()
			}
		}
		<-s.done
		if err := s.cmd.Wait(); err != nil {
			if msg := s.log.last(); msg != "" {
				err = errors.New(msg)
			}
			s.closeErr = fmt.Errorf("%s: %w", s.file, err)
		}
		s.log.writeTo(s.progress)
	})
	return s.closeErr
}

// closeWait is how long a server has to end once its input has.
const closeWait = 10 * time.Second

// A lineLog keeps the lines written to it, each after prefix, until they
// are written on; it remembers the last one.
type lineLog struct {
	mu       sync.Mutex
	prefix   string
	partial  []byte
	pending  []string
	lastLine string
}

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.add(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(b), nil
}

func (l *lineLog) add(line string) {
	l.pending = append(l.pending, l.prefix+line)
	if t := strings.TrimSpace(line); t != "" {
		l.lastLine = t
	}
}

// writeTo writes the lines kept so far to w, and an unfinished line too.
func (l *lineLog) writeTo(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.add(string(l.partial))
		l.partial = nil
	}
	for _, line := range l.pending {
		fmt.Fprintln(w, line)
	}
	l.pending = nil
}

// last returns the last line that was not blank.
func (l *lineLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := strings.TrimSpace(string(l.partial)); t != "" {
		return t
	}
	return l.lastLine
}
