package deferred_test

import (
	"bytes"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// debugging turns debugging mode on for the rest of the test.
func debugging(t *testing.T, on bool) {
	t.Helper()
	was := deferred.Debugging()
	deferred.SetDebugging(on)
	t.Cleanup(func() { deferred.SetDebugging(was) })
}

// The four ways of firing a Deferred twice, after Twisted's
// AlreadyCalledTests: each helper is a function of its own, so that the
// stacks can be told apart by name.

//go:noinline
func callOne(d *deferred.Deferred[string]) { d.Callback("hello") }

//go:noinline
func callTwo(d *deferred.Deferred[string]) { d.Callback("twice") }

//go:noinline
func errOne(d *deferred.Deferred[string]) { d.Errback(errA) }

//go:noinline
func errTwo(d *deferred.Deferred[string]) { d.Errback(errB) }

// section returns the calls listed under title in a debug text.
func section(text, title string) []string {
	var calls []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == "\t"+title+":":
			in = true
		case strings.HasPrefix(line, "\t\t"):
			if in {
				calls = append(calls, strings.TrimSpace(line))
			}
		default:
			in = false
		}
	}
	return calls
}

// countCalls counts the calls whose name is fn.
func countCalls(calls []string, fn string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "deferred_test."+fn+" (") {
			n++
		}
	}
	return n
}

func TestAlreadyCalledInDebuggingModeSaysWhereCreatedAndFirstFired(t *testing.T) {
	// Twisted's testAlreadyCalledDebug_CC, _CE, _EC and _EE: the creator
	// is the test, not a firer; the first invoker is there, the second not.
	ops := map[string]func(*deferred.Deferred[string]){
		"callOne": callOne, "callTwo": callTwo, "errOne": errOne, "errTwo": errTwo,
	}
	for _, tc := range []struct{ first, second, op string }{
		{"callOne", "callTwo", "Deferred.Callback"},
		{"callOne", "errTwo", "Deferred.Errback"},
		{"errOne", "callTwo", "Deferred.Callback"},
		{"errOne", "errTwo", "Deferred.Errback"},
	} {
		t.Run(tc.first+"_"+tc.second, func(t *testing.T) {
			debugging(t, true)
			d := deferred.New[string]()
			d.AddCallbacks(func(string) (string, error) { return "", nil },
				func(error) (string, error) { return "", nil })
			ops[tc.first](d)
			err := misusePanic(t, tc.op, func() { ops[tc.second](d) })
			require.ErrorIs(t, err, deferred.ErrAlreadyCalled)

			created := section(err.Error(), "created at")
			fired := section(err.Error(), "first fired at")
			require.NotEmpty(t, created, "the panic says where the Deferred was created: %s", err)
			require.NotEmpty(t, fired, "the panic says where the Deferred was first fired: %s", err)
			assert.True(t, strings.HasPrefix(created[0], "deferred_test.TestAlreadyCalledInDebuggingModeSaysWhereCreatedAndFirstFired.func"),
				"the creator is the test's own code: %v", created)
			for name := range ops {
				assert.Zero(t, countCalls(created, name), "no firer among the creators: %v", created)
			}
			assert.Equal(t, 1, countCalls(fired, tc.first), "the first firer: %v", fired)
			assert.Zero(t, countCalls(fired, tc.second), "not the second firer: %v", fired)
			for _, c := range append(created, fired...) {
				assert.NotContains(t, c, "deferred.", "calls inside package deferred are left out")
			}
		})
	}
}

func TestAlreadyCalledWithoutDebuggingSaysNoMore(t *testing.T) {
	// Twisted's testNoDebugging.
	debugging(t, false)
	d := deferred.New[string]()
	callOne(d)
	err := misusePanic(t, "Deferred.Callback", func() { callTwo(d) })
	assert.Equal(t, "deferred: Deferred.Callback: already called", err.Error())
}

func TestDebuggingIsFixedWhenTheDeferredIsCreated(t *testing.T) {
	// Twisted's testSwitchDebugging: the mode may change between the
	// creation of a Deferred and its fire without harm. Here a Deferred
	// keeps the mode it was created in.
	debugging(t, false)
	plain := deferred.New[string]()
	deferred.SetDebugging(true)
	callOne(plain)
	err := misusePanic(t, "Deferred.Callback", func() { callTwo(plain) })
	assert.NotContains(t, err.Error(), "created at")

	debugged := deferred.New[string]()
	deferred.SetDebugging(false)
	callOne(debugged)
	err = misusePanic(t, "Deferred.Callback", func() { callTwo(debugged) })
	assert.Equal(t, 1, countCalls(section(err.Error(), "first fired at"), "callOne"), "%s", err)
}

func TestSetDebuggingAndDebugging(t *testing.T) {
	debugging(t, false)
	assert.False(t, deferred.Debugging())
	deferred.SetDebugging(true)
	assert.True(t, deferred.Debugging())
	deferred.SetDebugging(false)
	assert.False(t, deferred.Debugging())
}

func TestSetDebuggingIsSafeFromManyGoroutines(t *testing.T) {
	debugging(t, false)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				deferred.SetDebugging((i+j)%2 == 0)
				d := deferred.New[int]()
				d.AddCallback(double)
				d.Callback(j)
				_ = d.String()
				_ = deferred.Debugging()
			}
		})
	}
	wg.Wait()
}

//go:noinline
func createDebugged() *deferred.Deferred[int] { return deferred.New[int]() }

//go:noinline
func failDebugged(d *deferred.Deferred[int], err error) { d.Errback(err) }

//go:noinline
func dropDebugged(err error) {
	failDebugged(createDebugged(), err)
}

func TestUnhandledErrorInDebuggingModeSaysWhereCreatedAndFired(t *testing.T) {
	// Twisted's test_errorLogDebugInfo.
	w := watchUnhandled(t)
	debugging(t, true)
	err := errors.New("unhandled while debugging")
	dropDebugged(err)
	deferred.SetDebugging(false)
	w.collect(t, err)

	var de *deferred.DebugError
	w.mu.Lock()
	for _, e := range w.errs {
		if errors.Is(e, err) {
			require.ErrorAs(t, e, &de)
		}
	}
	w.mu.Unlock()
	require.NotNil(t, de, "the report is a *DebugError")
	assert.Same(t, err, de.Err)
	require.NotEmpty(t, de.Created)
	require.NotEmpty(t, de.Fired)
	assert.True(t, strings.HasPrefix(de.Created[0], "deferred_test.createDebugged ("), "%v", de.Created)
	assert.Equal(t, 1, countCalls(de.Created, "dropDebugged"), "%v", de.Created)
	assert.True(t, strings.HasPrefix(de.Fired[0], "deferred_test.failDebugged ("), "%v", de.Fired)
	assert.Contains(t, de.Error(), "unhandled while debugging\n\tcreated at:\n\t\tdeferred_test.createDebugged (")
	assert.Contains(t, de.Error(), "\n\tfirst fired at:\n\t\tdeferred_test.failDebugged (")
}

func TestUnhandledErrorInDebuggingModeIsLoggedWithItsStacks(t *testing.T) {
	// The default handler, through slog.Default.
	watchUnhandled(t) // lets earlier garbage be reported first
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	restore := deferred.OnUnhandledError(nil)
	t.Cleanup(restore)

	debugging(t, true)
	err := errors.New("logged while debugging")
	dropDebugged(err)
	deferred.SetDebugging(false)
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
	for range 200 {
		if strings.Contains(logged(), "logged while debugging") {
			break
		}
		collectOnce()
	}
	var line string
	for _, l := range strings.Split(logged(), "\n") {
		if strings.Contains(l, "logged while debugging") {
			line = l
		}
	}
	require.NotEmpty(t, line, "the error was logged")
	assert.Contains(t, line, `msg="unhandled error in Deferred"`)
	assert.Contains(t, line, `error="logged while debugging"`)
	assert.Contains(t, line, `created="[deferred_test.createDebugged (`)
	assert.Contains(t, line, `fired="[deferred_test.failDebugged (`)
}

func TestSucceedFailAndAsyncRecordInDebuggingMode(t *testing.T) {
	debugging(t, true)
	for name, d := range map[string]*deferred.Deferred[int]{
		"Succeed": deferred.Succeed(1),
		"Async":   deferred.Async(func(*deferred.Awaiter) (int, error) { return 1, nil }),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Contains(t, d.String(), "created at deferred_test.TestSucceedFailAndAsyncRecordInDebuggingMode (")
			err := misusePanic(t, "Deferred.Callback", func() { d.Callback(2) })
			assert.Equal(t, 1, countCalls(section(err.Error(), "first fired at"), "TestSucceedFailAndAsyncRecordInDebuggingMode"),
				"created fired, where it was created: %s", err)
		})
	}
	d := deferred.Fail[int](errA)
	d.AddErrback(func(error) (int, error) { return 0, nil })
	err := misusePanic(t, "Deferred.Errback", func() { d.Errback(errB) })
	assert.Equal(t, 1, countCalls(section(err.Error(), "created at"), "TestSucceedFailAndAsyncRecordInDebuggingMode"), "%s", err)
}

// lockedWriter is a writer that the logger and the test may share.
type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// collectOnce runs a collection and lets the cleanup goroutine run.
func collectOnce() {
	runtime.GC()
	for range 10 {
		runtime.Gosched()
	}
}

func TestDebuggingOffAllocatesNothingMore(t *testing.T) {
	// A Deferred made with the mode off is the one allocation it was
	// before the mode existed; with it on, the records come on top.
	newFire := func() {
		d := deferred.New[int]()
		d.AddCallback(double)
		d.Callback(1)
	}
	debugging(t, false)
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, newFire))
	deferred.SetDebugging(true)
	assert.Greater(t, testing.AllocsPerRun(100, newFire), 1.0)
}
