package deferred_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// FuzzChainModel reads its input as a program of operations on a few
// Deferred[any] (add steps of every kind, fire, cancel, pause, unpause,
// chain, return one Deferred from another's callback, time out) and runs it
// twice: on real Deferreds, and on chainModel, a plain simulation of
// Twisted's Deferred written for this test. Both must log the same calls in
// the same order, panic on the same operations, and end with the same
// results.
func FuzzChainModel(f *testing.F) {
	for _, seed := range chainSeeds {
		f.Add(seed)
	}
	// The programs leave failed Deferreds behind by the thousand: keep
	// their reports out of the log.
	f.Cleanup(deferred.OnUnhandledError(func(error) {}))
	f.Fuzz(func(t *testing.T, program []byte) {
		want, got := runChainProgram(program)
		require.Equal(t, want, got, "program:\n%s", describeChainProgram(program))
	})
}

// chainSeeds are the starting corpus, and run on every plain go test. Each
// is three canceller kinds (one per Deferred) followed by operations.
var chainSeeds = [][]byte{
	// Plain chain: callbacks, an error, an errback that recovers, AddBoth.
	program(cNone, cNone, cNone,
		opAddCallback, 0, 2, opAddCallbackErr, 0, 1, opAddCallback, 0, 3,
		opAddErrbackRecover, 0, 1, opAddBoth, 0, 2, opAddCallbacks, 0, 1, 2,
		opAddErrbackPass, 0, opCallback, 0, 1, opResult, 0, opAddCallback, 0, 1),
	// D0 waits on an unfired D1, which gets a callback of its own after.
	program(cNone, cNone, cNone,
		opAddReturn, 0, 1, opAddCallback, 0, 1, opCallback, 0, 0, opResult, 0,
		opAddCallback, 1, 2, opCallback, 1, 3, opResult, 1),
	// A line of waits D0 -> D1 -> D2 cancelled from the top.
	program(cNone, cNoop, cErrback,
		opAddReturn, 0, 1, opAddReturn, 1, 2, opCallback, 1, 0, opCallback, 0, 0,
		opAddErrbackRecover, 0, 3, opCancel, 0, opCancel, 0),
	// Cancel without a canceller: one late fire ignored, the next panics.
	program(cNone, cNone, cNone,
		opAddCallback, 0, 1, opCancel, 0, opCallback, 0, 2, opErrback, 0, 1, opCancel, 0),
	// Pauses count; unpausing too often panics.
	program(cNone, cNone, cNone,
		opPause, 0, opPause, 0, opAddCallback, 0, 1, opCallback, 0, 1, opUnpause, 0,
		opResult, 0, opUnpause, 0, opUnpause, 0, opAddCallback, 0, 1),
	// Chain D0 to D1 and D1 to D2, then to an already fired one.
	program(cNone, cNone, cNone,
		opChain, 0, 1, opChain, 1, 2, opChain, 0, 0, opErrback, 0, 2,
		opAddErrbackRecover, 2, 1, opChain, 2, 1),
	// Timeouts: one fires in time, one times out, one is cancelled first.
	program(cNone, cCallback, cNone,
		opAddTimeout, 0, 2, opAddTimeout, 1, 1, opAddTimeout, 2, 3, opCallback, 0, 1,
		opAdvance, 1, opCancel, 2, opAdvance, 2, opAdvance, 2),
	// Cancellers that fire, panic, or do nothing (then a late fire panics).
	program(cCallback, cPanic, cNoop,
		opCancel, 0, opCancel, 1, opCancel, 2, opCallback, 2, 1, opResult, 0, opResult, 1),
	// A paused inner, an already fired inner, and an errback returning one.
	program(cNone, cNone, cNone,
		opPause, 1, opCallback, 1, 2, opAddReturn, 0, 1, opCallback, 0, 0, opResult, 0,
		opUnpause, 1, opAddErrbackReturn, 2, 0, opErrback, 2, 0, opResult, 2),
	// A callback returning its own Deferred, and a timeout on a waiting one.
	program(cNone, cNone, cNone,
		opAddReturn, 0, 0, opCallback, 0, 1, opAddReturn, 1, 2, opCallback, 1, 0,
		opAddTimeout, 1, 0, opAdvance, 0, opResult, 2),
}

// program builds a fuzz input from canceller kinds and operation bytes.
func program(c0, c1, c2 byte, ops ...byte) []byte {
	return append([]byte{c0, c1, c2}, ops...)
}

// Canceller kinds, one per Deferred.
const (
	cNone     byte = iota // New: no canceller
	cNoop                 // a canceller that does not fire
	cErrback              // a canceller that fails the Deferred with errCanceller
	cCallback             // a canceller that fires the Deferred with 100
	cPanic                // a canceller that panics
	numCancellerKinds
)

// Operations, each followed by its argument bytes: D is a Deferred's index
// (mod chainSize), K a small number (mod 4), E an error's index (mod 3).
const (
	opAddCallback       byte = iota // D K: callback returning v+K
	opAddCallbackErr                // D E: callback returning error E
	opAddErrbackRecover             // D K: errback returning K
	opAddErrbackPass                // D: errback returning its error
	opAddBoth                       // D K: v+K on success, the error as is
	opAddCallbacks                  // D K E: callback returning error E, errback returning K
	opAddReturn                     // D D2: callback returning D2
	opAddErrbackReturn              // D D2: errback returning D2
	opCallback                      // D K: Callback(K)
	opErrback                       // D E: Errback(E)
	opCancel                        // D
	opPause                         // D
	opUnpause                       // D
	opChain                         // D D2: D.Chain(D2)
	opAddTimeout                    // D K: AddTimeout(K seconds)
	opAdvance                       // K: clock.Advance(K seconds)
	opResult                        // D: log Result()
	numOps
)

const (
	chainSize     = 3   // Deferreds per program
	maxChainSteps = 100 // operations per program
)

var (
	fuzzErrs     = []error{errA, errB, errC}
	errCanceller = errors.New("canceller's error")
)

// chainSystem is what a program runs on: the real Deferreds or the model.
type chainSystem interface {
	add(i int, s stepSpec)
	callback(i, k int)
	errback(i int, err error)
	cancel(i int)
	pause(i int)
	unpause(i int)
	chain(i, j int)
	addTimeout(i int, d time.Duration)
	advance(d time.Duration)
	result(i int) (any, error)
	called(i int) bool
}

// stepSpec says what an added step does; both systems build their step
// from it.
type stepSpec struct {
	op   byte
	id   int // order of the step among all those added by the program
	k    int
	err  error
	dest int // the Deferred a returning step returns
}

// chainLog is the record of one run.
type chainLog struct{ lines []string }

func (l *chainLog) printf(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// programReader hands out a program's bytes, zeros once it runs out.
type programReader struct {
	b []byte
	i int
}

func (r *programReader) more() bool { return r.i < len(r.b) }

func (r *programReader) next(mod int) int {
	if r.i >= len(r.b) {
		return 0
	}
	v := int(r.b[r.i]) % mod
	r.i++
	return v
}

// decodedOp is one operation of a program with its arguments.
type decodedOp struct {
	op      byte
	i, j, k int
	err     error
}

// opFormats names each operation with its arguments: %[1]d is D (o.i),
// %[2]d is D2 (o.j), %[3]d is K (o.k) and %[4]v is E (o.err).
var opFormats = [numOps]string{
	opAddCallback:       "D%[1]d.AddCallback(+%[3]d)",
	opAddCallbackErr:    "D%[1]d.AddCallback(fail %[4]v)",
	opAddErrbackRecover: "D%[1]d.AddErrback(recover %[3]d)",
	opAddErrbackPass:    "D%[1]d.AddErrback(pass)",
	opAddBoth:           "D%[1]d.AddBoth(+%[3]d)",
	opAddCallbacks:      "D%[1]d.AddCallbacks(fail %[4]v, recover %[3]d)",
	opAddReturn:         "D%[1]d.AddCallback(return D%[2]d)",
	opAddErrbackReturn:  "D%[1]d.AddErrback(return D%[2]d)",
	opCallback:          "D%[1]d.Callback(%[3]d)",
	opErrback:           "D%[1]d.Errback(%[4]v)",
	opCancel:            "D%[1]d.Cancel()",
	opPause:             "D%[1]d.Pause()",
	opUnpause:           "D%[1]d.Unpause()",
	opChain:             "D%[1]d.Chain(D%[2]d)",
	opAddTimeout:        "D%[1]d.AddTimeout(%[3]ds)",
	opAdvance:           "clock.Advance(%[3]ds)",
	opResult:            "D%[1]d.Result()",
}

func (o decodedOp) String() string {
	if o.op >= numOps {
		return fmt.Sprintf("op %d", o.op)
	}
	return fmt.Sprintf(opFormats[o.op], o.i, o.j, o.k, o.err)
}

// decodeChainProgram splits a program into its canceller kinds and its
// operations.
func decodeChainProgram(program []byte) (cancellers [chainSize]byte, ops []decodedOp) {
	r := &programReader{b: program}
	for i := range cancellers {
		cancellers[i] = byte(r.next(int(numCancellerKinds)))
	}
	for r.more() && len(ops) < maxChainSteps {
		o := decodedOp{op: byte(r.next(int(numOps)))}
		switch o.op {
		case opAddCallback, opAddErrbackRecover, opAddBoth, opCallback, opAddTimeout:
			o.i, o.k = r.next(chainSize), r.next(4)
		case opAddCallbackErr, opErrback:
			o.i, o.err = r.next(chainSize), fuzzErrs[r.next(len(fuzzErrs))]
		case opAddCallbacks:
			o.i, o.k, o.err = r.next(chainSize), r.next(4), fuzzErrs[r.next(len(fuzzErrs))]
		case opAddReturn, opAddErrbackReturn, opChain:
			o.i, o.j = r.next(chainSize), r.next(chainSize)
		case opAdvance:
			o.k = r.next(4)
		default:
			o.i = r.next(chainSize)
		}
		ops = append(ops, o)
	}
	return cancellers, ops
}

func describeChainProgram(program []byte) string {
	cancellers, ops := decodeChainProgram(program)
	var b strings.Builder
	fmt.Fprintf(&b, "  cancellers %v\n", cancellers)
	for _, o := range ops {
		fmt.Fprintf(&b, "  %v\n", o)
	}
	return b.String()
}

// runChainProgram runs program on the model and on real Deferreds and
// returns both logs.
func runChainProgram(program []byte) (want, got []string) {
	cancellers, ops := decodeChainProgram(program)
	var modelLog, realLog chainLog
	m := newChainModel(cancellers, &modelLog)
	r := newRealChain(cancellers, &realLog)
	for n, o := range ops {
		applyChainOp(m, &modelLog, n, o)
		applyChainOp(r, &realLog, n, o)
	}
	for _, sys := range []struct {
		s   chainSystem
		log *chainLog
	}{{m, &modelLog}, {r, &realLog}} {
		for i := range chainSize {
			v, err := sys.s.result(i)
			sys.log.printf("end D%d called=%v %s", i, sys.s.called(i), showResult(v, err))
		}
	}
	return modelLog.lines, realLog.lines
}

// applyChainOp runs one operation on sys, logging it and any panic.
func applyChainOp(sys chainSystem, log *chainLog, n int, o decodedOp) {
	log.printf("#%d %v", n, o)
	defer func() {
		if r := recover(); r != nil {
			log.printf("#%d panic: %s", n, showPanic(r))
		}
	}()
	spec := stepSpec{op: o.op, id: n, k: o.k, err: o.err, dest: o.j}
	switch o.op {
	case opAddCallback, opAddCallbackErr, opAddErrbackRecover, opAddErrbackPass,
		opAddBoth, opAddCallbacks, opAddReturn, opAddErrbackReturn:
		sys.add(o.i, spec)
	case opCallback:
		sys.callback(o.i, o.k)
	case opErrback:
		sys.errback(o.i, o.err)
	case opCancel:
		sys.cancel(o.i)
	case opPause:
		sys.pause(o.i)
	case opUnpause:
		sys.unpause(o.i)
	case opChain:
		sys.chain(o.i, o.j)
	case opAddTimeout:
		sys.addTimeout(o.i, time.Duration(o.k)*time.Second)
	case opAdvance:
		sys.advance(time.Duration(o.k) * time.Second)
	case opResult:
		v, err := sys.result(o.i)
		log.printf("#%d %s", n, showResult(v, err))
	}
}

// stepBody is the behaviour of a step, shared by both systems: given the
// result it receives, it logs the call and returns the next result. A
// step that returns a Deferred returns ret(dest) instead.
func stepBody(s stepSpec, i int, log *chainLog, ret func(int) any) (cb func(any) (any, error), eb func(error) (any, error), both func(any, error) (any, error)) {
	name := func(kind string) string { return fmt.Sprintf("D%d.%s#%d", i, kind, s.id) }
	switch s.op {
	case opAddCallback:
		cb = func(v any) (any, error) { log.printf("%s(%s)", name("cb"), showValue(v)); return toInt(v) + s.k, nil }
	case opAddCallbackErr:
		cb = func(v any) (any, error) { log.printf("%s(%s)", name("cbErr"), showValue(v)); return nil, s.err }
	case opAddErrbackRecover:
		eb = func(err error) (any, error) { log.printf("%s(%s)", name("ebRecover"), showError(err)); return s.k, nil }
	case opAddErrbackPass:
		eb = func(err error) (any, error) { log.printf("%s(%s)", name("ebPass"), showError(err)); return nil, err }
	case opAddBoth:
		both = func(v any, err error) (any, error) {
			log.printf("%s(%s)", name("both"), showResult(v, err))
			if err != nil {
				return nil, err
			}
			return toInt(v) + s.k, nil
		}
	case opAddCallbacks:
		cb = func(v any) (any, error) { log.printf("%s(%s)", name("pairCb"), showValue(v)); return nil, s.err }
		eb = func(err error) (any, error) { log.printf("%s(%s)", name("pairEb"), showError(err)); return s.k, nil }
	case opAddReturn:
		cb = func(v any) (any, error) {
			log.printf("%s(%s)", name("cbReturn"), showValue(v))
			return ret(s.dest), nil
		}
	case opAddErrbackReturn:
		eb = func(err error) (any, error) {
			log.printf("%s(%s)", name("ebReturn"), showError(err))
			return ret(s.dest), nil
		}
	}
	return cb, eb, both
}

func toInt(v any) int {
	if n, ok := v.(int); ok {
		return n
	}
	return 0
}

func showValue(v any) string { return fmt.Sprint(v) }

func showResult(v any, err error) string {
	if err != nil {
		return "error " + showError(err)
	}
	return "value " + showValue(v)
}

// showError names an error the same way whichever system made it.
func showError(err error) string {
	var pe *deferred.PanicError
	if errors.As(err, &pe) {
		return "panic(" + showPanic(pe.Value) + ")"
	}
	var mp *modelPanic
	if errors.As(err, &mp) {
		return "panic(" + showPanic(mp.value) + ")"
	}
	switch {
	case errors.Is(err, deferred.ErrNotFired):
		return "not fired"
	case errors.Is(err, deferred.ErrTimeout):
		return "timeout"
	case errors.Is(err, deferred.ErrCancelled):
		return "cancelled"
	case errors.Is(err, errCanceller):
		return "canceller's error"
	case errors.Is(err, errModelReturnedSelf),
		strings.Contains(err.Error(), "returned the Deferred it was added to"):
		return "returned itself"
	}
	for n, e := range fuzzErrs {
		if err == e {
			return fmt.Sprintf("E%d", n)
		}
	}
	return "unexpected " + err.Error()
}

// showPanic names a panic value: a misuse by the call it names and
// whether it is ErrAlreadyCalled.
func showPanic(r any) string {
	err, ok := r.(error)
	if !ok {
		return fmt.Sprint(r)
	}
	msg := err.Error()
	op, _, _ := strings.Cut(strings.TrimPrefix(msg, "deferred: "), ":")
	if errors.Is(err, deferred.ErrAlreadyCalled) {
		return op + " already called"
	}
	if strings.HasPrefix(msg, "deferred: ") {
		return op + " misuse"
	}
	return showError(err)
}

// realChain runs programs on real Deferreds.
type realChain struct {
	ds    [chainSize]*deferred.Deferred[any]
	clock *scheduler.ManualClock
	log   *chainLog
}

func newRealChain(cancellers [chainSize]byte, log *chainLog) *realChain {
	r := &realChain{clock: scheduler.NewManualClock(), log: log}
	for i, kind := range cancellers {
		var canceller func(*deferred.Deferred[any])
		switch kind {
		case cNoop:
			canceller = func(*deferred.Deferred[any]) { log.printf("D%d canceller", i) }
		case cErrback:
			canceller = func(d *deferred.Deferred[any]) { log.printf("D%d canceller", i); d.Errback(errCanceller) }
		case cCallback:
			canceller = func(d *deferred.Deferred[any]) { log.printf("D%d canceller", i); d.Callback(100) }
		case cPanic:
			canceller = func(*deferred.Deferred[any]) { log.printf("D%d canceller", i); panic("canceller panic") }
		}
		if canceller == nil {
			r.ds[i] = deferred.New[any]()
		} else {
			r.ds[i] = deferred.NewWithCanceller(canceller)
		}
	}
	return r
}

func (r *realChain) add(i int, s stepSpec) {
	cb, eb, both := stepBody(s, i, r.log, func(j int) any { return r.ds[j] })
	switch {
	case both != nil:
		r.ds[i].AddBoth(both)
	case cb != nil && eb != nil:
		r.ds[i].AddCallbacks(cb, eb)
	case cb != nil:
		r.ds[i].AddCallback(cb)
	default:
		r.ds[i].AddErrback(eb)
	}
}

func (r *realChain) callback(i, k int)                 { r.ds[i].Callback(k) }
func (r *realChain) errback(i int, err error)          { r.ds[i].Errback(err) }
func (r *realChain) cancel(i int)                      { r.ds[i].Cancel() }
func (r *realChain) pause(i int)                       { r.ds[i].Pause() }
func (r *realChain) unpause(i int)                     { r.ds[i].Unpause() }
func (r *realChain) chain(i, j int)                    { r.ds[i].Chain(r.ds[j]) }
func (r *realChain) addTimeout(i int, d time.Duration) { r.ds[i].AddTimeout(r.clock, d) }
func (r *realChain) advance(d time.Duration)           { r.clock.Advance(d) }
func (r *realChain) result(i int) (any, error)         { return r.ds[i].Result() }
func (r *realChain) called(i int) bool                 { return r.ds[i].Called() }

// chainModel is a reference simulation of Twisted's Deferred: each
// Deferred a slice of steps and a current result, run by a transcription
// of Twisted's Deferred._runCallbacks, with its explicit stack of
// Deferreds that wait on one another.
//
// It departs from Twisted only where twine says so:
//   - user pauses are counted apart from waits, and Unpause without a
//     Pause is a misuse;
//   - a callback that returns the Deferred it was added to fails the
//     chain (Twisted warns, then waits forever);
//   - a panic in a canceller fails the Deferred with the panic;
//   - Cancel on a cycle of waits (D0 waits on D1, which waits on D0) does
//     nothing, where Twisted's recursion fails;
//   - when a result reaches a Deferred that is paused, the Deferred that
//     handed it over goes on with its own later steps (Twisted stops the
//     whole run there and leaves them to the next trigger, though its
//     test_pausedDeferredChained says they should go on);
//   - a callback that returns a Deferred one of whose own steps is running
//     (further up the stack, as when a Chain step fires the Deferred whose
//     callback returns the one that chained) waits for that Deferred's
//     result; Twisted takes the value the running step was given, which
//     that step's own return then overwrites.
type chainModel struct {
	ds     [chainSize]*modelDeferred
	log    *chainLog
	now    time.Duration
	timers []*modelTimer
	seq    int
}

type modelDeferred struct {
	index     int
	canceller byte
	called    bool
	suppress  bool // swallow one late fire: cancelled without a canceller
	paused    int  // user pauses
	waitingOn *modelDeferred
	running   bool // one of its steps is executing (Twisted's _runningCallbacks)
	val       any
	err       error
	steps     []modelStep
}

// modelStep is a step of a chain, or, with cont set, the continuation
// that hands the result to the Deferred waiting on this one.
type modelStep struct {
	cb   func(any) (any, error)
	eb   func(error) (any, error)
	both func(any, error) (any, error)
	cont *modelDeferred
}

type modelTimer struct {
	due      time.Duration
	seq      int
	d        *modelDeferred
	active   bool
	timedOut bool
}

// modelPanic is the model's PanicError.
type modelPanic struct{ value any }

func (p *modelPanic) Error() string { return fmt.Sprintf("model panic: %v", p.value) }

func (p *modelPanic) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

var (
	errModelReturnedSelf = errors.New("model: callback returned the Deferred it was added to")
	errModelNotPaused    = errors.New("model: not paused")
)

// modelMisuse is the panic value of a misused model call, worded as the
// real one so that showPanic names both alike.
func modelMisuse(op string, err error) error {
	return fmt.Errorf("deferred: %s: %w", op, err)
}

func newChainModel(cancellers [chainSize]byte, log *chainLog) *chainModel {
	m := &chainModel{log: log}
	for i, kind := range cancellers {
		m.ds[i] = &modelDeferred{index: i, canceller: kind}
	}
	return m
}

func (m *chainModel) add(i int, s stepSpec) {
	cb, eb, both := stepBody(s, i, m.log, func(j int) any { return m.ds[j] })
	m.addStep(m.ds[i], modelStep{cb: cb, eb: eb, both: both})
}

func (m *chainModel) addStep(d *modelDeferred, s modelStep) {
	d.steps = append(d.steps, s)
	if d.called {
		m.run(d)
	}
}

func (m *chainModel) fire(d *modelDeferred, v any, err error, op string) {
	if d.called {
		if d.suppress {
			d.suppress = false
			return
		}
		panic(modelMisuse(op, deferred.ErrAlreadyCalled))
	}
	d.called = true
	d.val, d.err = v, err
	m.run(d)
}

func (m *chainModel) callback(i, k int)        { m.fire(m.ds[i], k, nil, "Deferred.Callback") }
func (m *chainModel) errback(i int, err error) { m.fire(m.ds[i], nil, err, "Deferred.Errback") }

func (m *chainModel) pause(i int) { m.ds[i].paused++ }

func (m *chainModel) unpause(i int) {
	d := m.ds[i]
	if d.paused == 0 {
		panic(modelMisuse("Deferred.Unpause", errModelNotPaused))
	}
	d.paused--
	if d.paused == 0 && d.called {
		m.run(d)
	}
}

// cancel is Twisted's Deferred.cancel.
func (m *chainModel) cancel(i int) { m.cancelDeferred(m.ds[i]) }

func (m *chainModel) cancelDeferred(d *modelDeferred) {
	if d.called {
		// Down the line of waits; Twisted recurses, twine loops.
		seen := map[*modelDeferred]bool{}
		for d.called {
			if d.waitingOn == nil || seen[d] {
				return
			}
			seen[d] = true
			d = d.waitingOn
		}
	}
	if d.canceller == cNone {
		d.suppress = true
	} else {
		m.log.printf("D%d canceller", d.index)
		switch d.canceller {
		case cErrback:
			m.fire(d, nil, errCanceller, "")
		case cCallback:
			m.fire(d, 100, nil, "")
		case cPanic:
			m.fire(d, nil, &modelPanic{value: "canceller panic"}, "")
		}
	}
	if !d.called {
		m.fire(d, nil, deferred.ErrCancelled, "")
	}
}

// chain is Twisted's chainDeferred.
func (m *chainModel) chain(i, j int) {
	if i == j {
		panic(modelMisuse("Deferred.Chain", errors.New("chained to itself")))
	}
	other := m.ds[j]
	m.addStep(m.ds[i], modelStep{
		cb: func(v any) (any, error) { m.fire(other, v, nil, "Deferred.Callback"); return nil, nil },
		eb: func(err error) (any, error) { m.fire(other, nil, err, "Deferred.Errback"); return nil, nil },
	})
}

// addTimeout is Twisted's Deferred.addTimeout, whose two steps are one
// here.
func (m *chainModel) addTimeout(i int, d time.Duration) {
	m.seq++
	t := &modelTimer{due: m.now + max(d, 0), seq: m.seq, d: m.ds[i], active: true}
	m.timers = append(m.timers, t)
	m.addStep(m.ds[i], modelStep{both: func(v any, err error) (any, error) {
		t.active = false
		if err != nil && t.timedOut && errors.Is(err, deferred.ErrCancelled) {
			return nil, deferred.ErrTimeout
		}
		return v, err
	}})
}

// advance is task.Clock.advance: due timers run earliest first, those due
// at the same time in the order they were set.
func (m *chainModel) advance(d time.Duration) {
	m.now += d
	for {
		var next *modelTimer
		for _, t := range m.timers {
			if t.active && t.due <= m.now && (next == nil || t.due < next.due || t.due == next.due && t.seq < next.seq) {
				next = t
			}
		}
		if next == nil {
			return
		}
		next.active = false
		next.timedOut = true
		m.cancelDeferred(next.d)
	}
}

func (m *chainModel) result(i int) (any, error) {
	d := m.ds[i]
	if !d.called || d.paused > 0 || d.waitingOn != nil || d.running {
		return nil, deferred.ErrNotFired
	}
	return d.val, d.err
}

func (m *chainModel) called(i int) bool { return m.ds[i].called }

// run is Twisted's Deferred._runCallbacks.
func (m *chainModel) run(d *modelDeferred) {
	if d.running {
		return
	}
	stack := []*modelDeferred{d}
	pop := func() { stack = stack[:len(stack)-1] }
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		if cur.paused > 0 || cur.waitingOn != nil {
			// Twisted returns here; the Deferreds below on the stack go
			// on (see the type's comment).
			pop()
			continue
		}
		finished := true
	steps:
		for len(cur.steps) > 0 {
			s := cur.steps[0]
			cur.steps = cur.steps[1:]
			if s.cont != nil {
				waiter := s.cont
				waiter.val, waiter.err = cur.val, cur.err
				cur.val, cur.err = nil, nil
				waiter.waitingOn = nil
				stack = append(stack, waiter)
				finished = false
				break
			}
			cur.running = true
			v, err := invokeModelStep(s, cur.val, cur.err)
			cur.running = false
			if inner, ok := v.(*modelDeferred); ok && err == nil {
				switch {
				case inner == cur:
					v, err = nil, errModelReturnedSelf
				case !inner.called || inner.waitingOn != nil || inner.paused > 0 || inner.running:
					// No result to take yet: wait for it.
					cur.val, cur.err = nil, nil
					cur.waitingOn = inner
					inner.steps = append(inner.steps, modelStep{cont: cur})
					break steps
				default:
					// Take the inner result; it is left with nil.
					v, err = inner.val, inner.err
					inner.val, inner.err = nil, nil
				}
			}
			cur.val, cur.err = v, err
		}
		if finished {
			pop()
		}
	}
}

// invokeModelStep calls the step's function for the result, turning a
// panic into a modelPanic.
func invokeModelStep(s modelStep, v any, err error) (rv any, rerr error) {
	defer func() {
		if r := recover(); r != nil {
			rv, rerr = nil, &modelPanic{value: r}
		}
	}()
	switch {
	case s.both != nil:
		return s.both(v, err)
	case err == nil && s.cb != nil:
		return s.cb(v)
	case err != nil && s.eb != nil:
		return s.eb(err)
	}
	return v, err
}

func TestChainModelSeedsDescribeThemselves(t *testing.T) {
	// The seed programs decode to what their comments say: a mistake in
	// the op table would silently make the seeds test something else.
	_, ops := decodeChainProgram(chainSeeds[3])
	var names []string
	for _, o := range ops {
		names = append(names, o.String())
	}
	require.Equal(t, []string{
		"D0.AddCallback(+1)", "D0.Cancel()", "D0.Callback(2)", "D0.Errback(error B)", "D0.Cancel()",
	}, names)
}
