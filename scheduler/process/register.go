package process

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/twinego/twine/deferred"
)

// entry is a registered function, as both sides know it. The typed parts
// live in the closures: the worker decodes an argument and runs the
// function through them, the parent decodes results through the Func that
// Register returned.
type entry struct {
	name   string
	sig    string
	stream bool
	index  int // in the registry's sorted list, once frozen

	argEmpty, resEmpty bool // zero-size types cross as no bytes at all

	decodeArg func(dec Decoder, data []byte) (any, error)
	call      func(ctx context.Context, arg any) (any, error)
	iterate   func(ctx context.Context, arg any) iter.Seq2[any, error]
}

// The registry: every registered function, by name. It is frozen by Main, after
// which the index of each function (its place in name order) is what call
// frames carry.
var registry = struct {
	sync.Mutex
	frozen bool
	byName map[string]*entry
	sorted []*entry
}{byName: map[string]*entry{}}

func register(e *entry, method string) {
	if e.name == "" || strings.ContainsFunc(e.name, func(r rune) bool { return r < ' ' }) {
		panic(fmt.Sprintf("process: %s(%q): name must be non-empty printable text", method, e.name))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[e.name]; dup {
		panic(fmt.Sprintf("process: %s(%q): name registered twice", method, e.name))
	}
	if registry.frozen {
		panic(fmt.Sprintf("process: %s(%q) after process.Main: register functions in package variables or init functions, before Main runs", method, e.name))
	}
	registry.byName[e.name] = e
}

// freeze fixes the registry: no more functions, and each gets its index.
func freeze() {
	registry.Lock()
	defer registry.Unlock()
	if registry.frozen {
		return
	}
	registry.frozen = true
	for _, e := range registry.byName {
		registry.sorted = append(registry.sorted, e)
	}
	slices.SortFunc(registry.sorted, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	for i, e := range registry.sorted {
		e.index = i
	}
}

// signatures lists the frozen registry for the handshake.
func signatures() []signature {
	registry.Lock()
	defer registry.Unlock()
	out := make([]signature, len(registry.sorted))
	for i, e := range registry.sorted {
		out[i] = signature{name: e.name, sig: e.sig}
	}
	return out
}

func entryAt(i uint64) *entry {
	// The registry does not change once frozen, and it is frozen before
	// any frame is read: no lock needed.
	if i >= uint64(len(registry.sorted)) {
		return nil
	}
	return registry.sorted[i]
}

// diffSignatures explains how the worker's functions (theirs) differ from
// the parent's (mine), both sorted, or returns "" if they do not.
func diffSignatures(mine, theirs []signature) string {
	m := make(map[string]string, len(mine))
	for _, s := range mine {
		m[s.name] = s.sig
	}
	var missing, extra, changed []string
	seen := make(map[string]bool, len(theirs))
	for _, s := range theirs {
		seen[s.name] = true
		sig, ok := m[s.name]
		switch {
		case !ok:
			extra = append(extra, s.name)
		case sig != s.sig:
			changed = append(changed, fmt.Sprintf("%s is %s here and %s in the worker", s.name, sig, s.sig))
		}
	}
	for _, s := range mine {
		if !seen[s.name] {
			missing = append(missing, s.name)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "the worker lacks "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "only the worker has "+strings.Join(extra, ", "))
	}
	if len(changed) > 0 {
		parts = append(parts, strings.Join(changed, "; "))
	}
	return strings.Join(parts, "; ")
}

func isEmpty[T any]() bool { return reflect.TypeFor[T]().Size() == 0 }

// Arguments and results cross as pointers to them, so that an interface
// type (an A or R of any, say) is encoded as the interface it is, with its
// dynamic type, rather than as the dynamic type alone.
func decodeArgFunc[A any]() func(Decoder, []byte) (any, error) {
	if isEmpty[A]() {
		return func(Decoder, []byte) (any, error) { return new(A), nil }
	}
	return func(dec Decoder, data []byte) (any, error) {
		a := new(A)
		err := dec.Decode(data, a)
		return a, err
	}
}

// Func is a function registered with [Register], to be called in worker
// processes of a [Pool]. Its methods are safe to use from any goroutine.
// The zero value is not usable.
type Func[A, R any] struct{ e *entry }

// Register registers fn under name, to be run in worker processes, and
// returns the handle to call it with. fn receives a context that is
// cancelled when the caller cancels the task's Deferred (or the pool gives up
// on it); its result or its error goes back to the caller. A panic in fn is
// recovered in the worker (which keeps serving) and fails the task with a
// *deferred.PanicError whose Value is the panic value's text and whose Stack
// is the worker's stack.
//
// A and R must be types the pool's codec can encode (for [Gob], exported
// fields); zero-size types such as struct{} cost nothing on the wire.
//
// Register in a package-level variable or an init function, so that the
// worker, which is the same executable started again, registers the same
// functions: the handshake checks that both processes have the same names
// with the same types. Register panics after [Main] has run, for a name
// registered twice, and for a nil fn or an empty name.
func Register[A, R any](name string, fn func(ctx context.Context, arg A) (R, error)) *Func[A, R] {
	if fn == nil {
		panic(fmt.Sprintf("process: Register(%q): nil function", name))
	}
	e := &entry{
		name:      name,
		sig:       fmt.Sprintf("func(%v) (%v, error)", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		argEmpty:  isEmpty[A](),
		resEmpty:  isEmpty[R](),
		decodeArg: decodeArgFunc[A](),
		call: func(ctx context.Context, arg any) (any, error) {
			r, err := fn(ctx, *arg.(*A))
			return &r, err
		},
	}
	register(e, "Register")
	return &Func[A, R]{e: e}
}

// Name returns the name f was registered under.
func (f *Func[A, R]) Name() string { return f.entry("Func.Name").name }

func (f *Func[A, R]) entry(method string) *entry {
	if f == nil || f.e == nil {
		panic("process: " + method + ": Func not made by Register")
	}
	return f.e
}

// Call runs f with arg on r and returns a Deferred that fires with f's
// result, or fails with its error. r is a [*Pool] (worker processes of this
// machine) or any other [Runner] (scheduler/remote's pool of workers reached
// through a message broker); the Runner's documentation says what it adds.
//
// On a [*Pool] p, the Deferred fires on p's loop with f's result, or fails
// with its error: a [*RemoteError] for an error f returned, a
// *deferred.PanicError for a panic, a [*WorkerError] if the worker went away
// meanwhile, [ErrFrameTooLarge] or an encoding error if arg or the result
// could not cross, [ErrClosed] if p is closed. The Deferred never fires
// inside Call, even for an error known at once, unless p's loop has stopped
// for good: the task is then not run, and the Deferred fails at once with an
// error wrapping scheduler.ErrLoopStopped (see [Pool.Close] for the results
// of tasks that were running when the loop stopped).
//
// Tasks are sent to workers in the order of the calls, as workers have room
// for them ([WithMaxInFlight]); they may finish in any order. arg is encoded
// when its task is sent, which for a queued task is after Call has returned:
// leave what it refers to (a slice, a map, a pointer) unchanged until the
// Deferred fires. Cancelling the
// Deferred before it fires removes a task that is still queued, or tells its
// worker to cancel the task's context; the Deferred fails with
// deferred.ErrCancelled at once, on the goroutine that cancels it (as any
// cancelled Deferred does), and what the worker sends back later is dropped.
// Call may be used from any goroutine. A nil r, or a nil *Pool, panics.
func (f *Func[A, R]) Call(r Runner, arg A) *deferred.Deferred[R] {
	e := f.entry("Func.Call")
	p, local := r.(*Pool)
	if !local {
		if r == nil {
			panic("process: Func.Call: nil Pool or Runner")
		}
		c := newTypedCall[A, R](e, arg)
		r.RunCall(&c.Call)
		return c.d
	}
	// A Pool's own calls take the short way, a task that holds the
	// argument and the result itself.
	if p == nil {
		panic("process: Func.Call: nil Pool")
	}
	t := &callTask[A, R]{arg: arg}
	t.init(p, e, &t.arg, t)
	t.d = deferred.NewWithCanceller(func(*deferred.Deferred[R]) { p.cancel(&t.task) })
	p.submit(&t.task)
	return t.d
}

// StreamFunc is a streaming function registered with [RegisterStream], to be
// called in worker processes of a [Pool]. Its methods are safe to use from
// any goroutine. The zero value is not usable.
type StreamFunc[A, R any] struct{ e *entry }

// RegisterStream registers fn, a function that produces a sequence of values,
// under name, to be run in worker processes, and returns the handle to call
// it with. The sequence ends at its end, at its first non-nil error (the
// value beside which is ignored), when the caller cancels, or when fn's
// context is cancelled: fn should watch it, and must stop when yield returns
// false, as any iterator must. Values cross to the caller as they come, a
// window of them ahead of what the caller has consumed; the worker waits
// for room when the caller falls behind.
//
// Everything else is as for [Register]: the types, the panics, the
// registration in package variables or init functions, before [Main].
func RegisterStream[A, R any](name string, fn func(ctx context.Context, arg A) iter.Seq2[R, error]) *StreamFunc[A, R] {
	if fn == nil {
		panic(fmt.Sprintf("process: RegisterStream(%q): nil function", name))
	}
	e := &entry{
		name:      name,
		sig:       fmt.Sprintf("stream(%v) (%v, error)", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		stream:    true,
		argEmpty:  isEmpty[A](),
		resEmpty:  isEmpty[R](),
		decodeArg: decodeArgFunc[A](),
		iterate: func(ctx context.Context, arg any) iter.Seq2[any, error] {
			seq := fn(ctx, *arg.(*A))
			return func(yield func(any, error) bool) {
				if seq == nil {
					return
				}
				for v, err := range seq {
					if !yield(&v, err) {
						return
					}
				}
			}
		},
	}
	register(e, "RegisterStream")
	return &StreamFunc[A, R]{e: e}
}

// Name returns the name f was registered under.
func (f *StreamFunc[A, R]) Name() string { return f.entry("StreamFunc.Name").name }

func (f *StreamFunc[A, R]) entry(method string) *entry {
	if f == nil || f.e == nil {
		panic("process: " + method + ": StreamFunc not made by RegisterStream")
	}
	return f.e
}

// Stream runs f with arg on a worker of p and calls each on p's loop with
// every value f yields, in order. The returned Deferred fires on the loop
// after the last value, or fails as [Func.Call]'s does, after the values
// that came before the error. Cancelling it stops the stream: no value is
// passed to each after the cancellation (from the loop; a value being passed
// on the loop while another goroutine cancels still finishes), the worker
// cancels f's context and stops pulling values, and the Deferred fails with
// deferred.ErrCancelled. A panic in each is recovered: it stops the stream
// the same way, and the Deferred fails with a *deferred.PanicError.
//
// Stream may be used from any goroutine. A nil p or each panics.
func (f *StreamFunc[A, R]) Stream(p *Pool, arg A, each func(R)) *deferred.Deferred[struct{}] {
	e := f.entry("StreamFunc.Stream")
	if p == nil {
		panic("process: StreamFunc.Stream: nil Pool")
	}
	if each == nil {
		panic("process: StreamFunc.Stream: nil function")
	}
	t := &streamTask[R]{each: each}
	t.init(p, e, &arg, t)
	t.d = deferred.NewWithCanceller(func(*deferred.Deferred[struct{}]) { p.cancel(&t.task) })
	p.submit(&t.task)
	return t.d
}
