package process

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// MapFunc is a function registered with [RegisterMap]: a [Func], whose Call
// sends one argument per frame, that can also be mapped over a sequence in
// chunks, many elements per frame, as Python's multiprocessing.Pool.map
// does. Its methods are safe to use from any goroutine. The zero value is
// not usable.
type MapFunc[A, R any] struct {
	*Func[A, R]
	chunk *Func[[]A, chunkResult[R]]

	mu   sync.Mutex
	open map[*Pool]*openChunk[A, R] // CallChunked calls not yet sent, by pool
}

// chunkResult is what the chunked form of a function returns for a chunk:
// a result per element, the errors of those that failed, and how long the
// worker took, from which the parent sizes the next chunks.
type chunkResult[R any] struct {
	Values []R
	Errs   []chunkError
	Nanos  int64
}

// chunkError is the error of one element of a chunk, as it crosses.
type chunkError struct {
	Index int
	Panic bool // Text and Stack are a panic's
	Text  string
	Stack []byte
}

// errShortChunk is the error of the elements of a chunk whose result has
// fewer values than the chunk had elements, which a worker of this build
// never sends.
var errShortChunk = errors.New("process: a chunk's result lacks values")

// chunkSuffix makes the name of a function's chunked form.
const chunkSuffix = "[]"

// RegisterMap registers fn under name as [Register] does, and with it its
// chunked form under name+"[]", which runs fn on every element of a slice in
// one task; it returns the handle that calls either. Everything said of
// Register holds for both: register in a package-level variable or an init
// function, before [Main]; fn's errors and panics fail only the element they
// come from. RegisterMap panics as Register does, and if name+"[]" is
// registered already.
func RegisterMap[A, R any](name string, fn func(ctx context.Context, arg A) (R, error)) *MapFunc[A, R] {
	f := Register(name, fn)
	e := &entry{
		name:      name + chunkSuffix,
		sig:       fmt.Sprintf("chunk(%v) (%v, error)", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		decodeArg: decodeArgFunc[[]A](),
		call: func(ctx context.Context, arg any) (any, error) {
			return runChunk(ctx, fn, *arg.(*[]A))
		},
	}
	register(e, "RegisterMap")
	return &MapFunc[A, R]{Func: f, chunk: &Func[[]A, chunkResult[R]]{e: e}}
}

// runChunk runs fn on each element of args, in the worker. It stops early,
// failing the chunk, if ctx is cancelled. The time it reports is its share
// of the worker's processors (see chunkClock).
func runChunk[A, R any](ctx context.Context, fn func(context.Context, A) (R, error), args []A) (*chunkResult[R], error) {
	clock := chunkClock()
	start := clock.begin()
	res := &chunkResult[R]{Values: make([]R, len(args))}
	for i, a := range args {
		if i%64 == 63 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, perr, err := callElement(ctx, fn, a)
		switch {
		case perr != nil:
			res.Errs = append(res.Errs, *perr)
			res.Errs[len(res.Errs)-1].Index = i
		case err != nil:
			res.Errs = append(res.Errs, chunkError{Index: i, Text: err.Error()})
		default:
			res.Values[i] = v
		}
	}
	res.Nanos = max(1, int64(clock.end(start)))
	return res, nil
}

// shareClock measures the time of the chunks a worker runs as each one's
// share of its processors. A worker runs the tasks it is sent side by
// side, and the pool sends each a few chunks ahead to keep it busy: with
// more chunks running than GOMAXPROCS (1 in a local pool's worker by
// default), Go shares the processors among them, and each takes longer on
// the clock than its work. The time a chunk reports sizes the next, so it
// must be its work's: while k chunks run on p processors, each is counted
// min(1, p/k) of the time that passes.
type shareClock struct {
	now   func() time.Time
	procs int

	mu      sync.Mutex
	running int           // chunks between begin and end
	last    time.Time     // when share was last brought up to date
	share   time.Duration // the time a chunk running all along would have counted so far
}

// chunkClock is the worker's shareClock, made on first use.
var chunkClock = sync.OnceValue(func() *shareClock {
	return &shareClock{now: time.Now, procs: runtime.GOMAXPROCS(0)}
})

// begin starts counting a chunk's time, and returns the mark to give end.
func (c *shareClock) begin() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked()
	c.running++
	return c.share
}

// end stops counting a chunk's time and returns it.
func (c *shareClock) end(mark time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked()
	c.running--
	return c.share - mark
}

func (c *shareClock) advanceLocked() {
	now := c.now()
	if c.running > 0 {
		d := now.Sub(c.last)
		if c.running > c.procs {
			d = d * time.Duration(c.procs) / time.Duration(c.running)
		}
		c.share += d
	}
	c.last = now
}

// callElement calls fn, turning a panic into its chunkError.
func callElement[A, R any](ctx context.Context, fn func(context.Context, A) (R, error), a A) (v R, perr *chunkError, err error) {
	defer func() {
		if r := recover(); r != nil {
			perr = &chunkError{Panic: true, Text: fmt.Sprint(r), Stack: debug.Stack()}
		}
	}()
	v, err = fn(ctx, a)
	return v, nil, err
}

// elementError is the error of element i of a chunk, as [Func.Call] would
// give it.
func (r *chunkResult[R]) elementError(name string, k int) error {
	e := r.Errs[k]
	if e.Panic {
		return &deferred.PanicError{Value: e.Text, Stack: e.Stack}
	}
	return &RemoteError{Func: name, Text: e.Text}
}

// Map runs m on every element of seq on r, many elements to a task, and
// fires with the results in the order of seq: Python's
// multiprocessing.Pool.map, for a sequence of any length. r is a [*Pool]
// or any other [Runner] (scheduler/remote's pool of workers reached through
// a message broker): the chunks are calls of m's chunked form, which every
// worker that registered m with RegisterMap runs.
//
// seq is advanced on a loop, a chunk at a time, by a cooperative task
// ([cooperate.Parallel]) in slices that leave the loop its other work, and
// the returned Deferred fires there: the loop of a *Pool, or the one given
// with [WithLoop], which a Runner other than *Pool needs. A few chunks are
// in flight at once ([WithTasksInFlight]; by default three per worker of a
// *Pool), so that no worker waits while the loop cuts the next one. The
// chunk size is chosen from what the workers take per element: the first
// chunks have one element, the next about a millisecond of work, and the
// chunks grow with the work done so far (an eighth of it, shared among the
// chunks in flight) to about 10 ms of work, at most 4096 elements: a long
// map pays for a frame and a wake-up of its loop only every few
// milliseconds of work, and whenever the sequence ends, its last chunks are
// a small part of the map. [WithChunkSize] fixes the size instead, as
// multiprocessing's chunksize does. An element's argument and result must
// fit in a frame (or a message) with the rest of its chunk
// ([WithMaxFrame]): give a smaller chunk size for large ones.
//
// The first failure ends the map: what is in flight is cancelled, seq is
// released, and the returned Deferred fails with a [*cooperate.ElementError]
// holding the element's index and its error, as [Func.Call] would give it (a
// [*RemoteError], a *deferred.PanicError). An error that fails a whole chunk
// (its worker died, the pool closed, the chunk did not fit in a frame) is
// the error of the chunk's first element. With [CollectErrors] the map goes
// on instead and fails at the end with a [*cooperate.ElementErrors] listing
// every failed element (each element of a chunk that failed whole). A panic
// of seq fails the map with its *deferred.PanicError. Cancelling the
// returned Deferred cancels the chunks in flight and releases seq; it fails
// with deferred.ErrCancelled.
//
// Map may be called from any goroutine; the returned Deferred never fires
// inside it, unless the loop has stopped for good (a
// [scheduler.StoppableLoop] that refuses functions): it has then failed
// with scheduler.ErrLoopStopped. A nil r or seq, and a Runner other than
// *Pool without [WithLoop], panic.
func (m *MapFunc[A, R]) Map(r Runner, seq iter.Seq[A], opts ...MapOption) *deferred.Deferred[[]R] {
	m.check("MapFunc.Map")
	return startMap("MapFunc.Map", m.Name(), r, seq, opts, func(chunk []A) *deferred.Deferred[chunkResult[R]] {
		return m.chunk.Call(r, chunk)
	})
}

// Map runs f on every element of seq on r, one element to a task, and fires
// with the results in the order of seq: Twisted's parallel(iterable, count,
// callable) idiom over a pool, gathered as [cooperate.Map] gathers. It is
// [MapFunc.Map] without chunks, for a function registered with [Register]
// whose elements take long enough (several milliseconds or more) that a
// frame and a wake-up of the loop's process per element cost little beside
// their work: everything said there holds, elements in place of chunks, and
// [WithChunkSize] panics. For shorter elements, register the function with
// [RegisterMap] and map the MapFunc.
func (f *Func[A, R]) Map(r Runner, seq iter.Seq[A], opts ...MapOption) *deferred.Deferred[[]R] {
	f.entry("Func.Map")
	opts = append(opts, func(c *mapConfig) {
		if c.chunkSize > 1 {
			panic("process: Func.Map: WithChunkSize: a Func runs one element per task (register it with RegisterMap to chunk)")
		}
		c.chunkSize = 1
	})
	return startMap("Func.Map", f.Name(), r, seq, opts, func(chunk []A) *deferred.Deferred[chunkResult[R]] {
		return deferred.Then(f.Call(r, chunk[0]), func(v R) (chunkResult[R], error) {
			return chunkResult[R]{Values: []R{v}}, nil
		})
	})
}

// startMap starts the map of method over seq on r, each chunk sent with
// send.
func startMap[A, R any](method, name string, r Runner, seq iter.Seq[A], opts []MapOption, send func([]A) *deferred.Deferred[chunkResult[R]]) *deferred.Deferred[[]R] {
	cfg := mapConfig{}
	for _, o := range opts {
		if o == nil {
			panic("process: " + method + ": nil option")
		}
		o(&cfg)
	}
	if seq == nil {
		panic("process: " + method + ": nil iterator")
	}
	loop, window := cfg.loop, cfg.window
	switch p, local := r.(*Pool); {
	case r == nil:
		panic("process: " + method + ": nil Runner")
	case local && p == nil:
		panic("process: " + method + ": nil Pool")
	case local:
		if loop == nil {
			loop = p.loop
		}
		if window == 0 {
			window = chunksPerWorker * p.cfg.maxWorkers
		}
	case loop == nil:
		panic("process: " + method + ": a Runner other than *Pool needs WithLoop")
	}
	if window == 0 {
		window = defaultTasksInFlight
	}
	s := &mapRun[A, R]{name: name, loop: loop, window: window, collect: cfg.collect,
		seq: seq, send: send, size: chunkSizer{fixed: cfg.chunkSize, window: window}}
	s.out = deferred.NewWithCanceller(func(*deferred.Deferred[[]R]) { s.cancel() })
	if !postOn(loop, s.start) {
		s.finish(scheduler.ErrLoopStopped)
	}
	return s.out
}

// postOn asks loop to run f, and reports false if the loop has stopped for
// good and never will.
func postOn(loop scheduler.Loop, f func()) bool {
	if l, ok := loop.(scheduler.StoppableLoop); ok {
		return l.TryCallSoon(f)
	}
	loop.CallSoon(f)
	return true
}

func (m *MapFunc[A, R]) check(method string) {
	if m == nil || m.Func == nil || m.chunk == nil {
		panic("process: " + method + ": MapFunc not made by RegisterMap")
	}
}

// A MapOption changes how [MapFunc.Map] and [Func.Map] run.
type MapOption func(*mapConfig)

type mapConfig struct {
	chunkSize int
	loop      scheduler.Loop
	window    int
	collect   bool
}

// WithChunkSize makes [MapFunc.Map] send n elements per task (the last one
// may have fewer), as multiprocessing's chunksize does, instead of sizing
// chunks from the time they take. n below 1 panics.
func WithChunkSize(n int) MapOption {
	atLeast("WithChunkSize", n, 1)
	return func(c *mapConfig) { c.chunkSize = n }
}

// WithLoop makes a map advance its sequence and fire its Deferred on loop
// (the reactor, typically), which a Runner other than a [*Pool] needs: the
// loop its calls fire on is the natural one. A *Pool's own loop is the
// default. A nil loop panics.
func WithLoop(loop scheduler.Loop) MapOption {
	if loop == nil {
		panic("process: WithLoop: nil Loop")
	}
	return func(c *mapConfig) { c.loop = loop }
}

// WithTasksInFlight makes a map keep at most n of its tasks (chunks, or
// elements for [Func.Map]) sent and unanswered at once: by default three
// per worker of a [*Pool], and 16 on any other Runner. n below 1 panics.
func WithTasksInFlight(n int) MapOption {
	atLeast("WithTasksInFlight", n, 1)
	return func(c *mapConfig) { c.window = n }
}

// CollectErrors makes a map go on when elements fail, and fail at the end
// with a [*cooperate.ElementErrors] that lists every failed element, rather
// than stop at the first, as [cooperate.CollectErrors] does for
// [cooperate.Map]. The results of the elements that succeeded are then not
// handed over: use cooperate.Parallel with [Func.Call] or
// [MapFunc.CallChunked] to see them.
func CollectErrors() MapOption {
	return func(c *mapConfig) { c.collect = true }
}

// chunksPerWorker is how many chunks of a map are in flight per worker of
// a *Pool; defaultTasksInFlight is how many on any other Runner.
const (
	chunksPerWorker      = 3
	defaultTasksInFlight = 16
)

// mapRun is one Map. Its fields belong to its loop, but for those mu
// guards.
type mapRun[A, R any] struct {
	name    string // the function's, for its errors
	loop    scheduler.Loop
	window  int
	collect bool
	seq     iter.Seq[A]
	send    func([]A) *deferred.Deferred[chunkResult[R]]
	size    chunkSizer
	starts  []int                     // the index of each chunk's first element
	sizes   []int                     // and its length
	parts   [][]R                     // and its results
	total   int                       // the elements cut into chunks
	failed  *cooperate.ElementError   // the element error that ended the map
	errs    []*cooperate.ElementError // with CollectErrors, the elements' own errors

	out       *deferred.Deferred[[]R]
	mu        sync.Mutex                   // held while out is fired, and for:
	running   *deferred.Deferred[struct{}] // the chunks' loop, once started
	cancelled bool                         // out was cancelled
	fired     bool                         // out was fired
}

// start runs the map on the loop, with a Cooperator of its own, stopped
// when the map is over.
func (s *mapRun[A, R]) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		return
	}
	c := cooperate.New(s.loop)
	var opts []cooperate.ParallelOption
	if s.collect {
		opts = append(opts, cooperate.CollectErrors())
	}
	s.running = cooperate.Parallel(c, s.chunks, s.window, s.send, s.chunkDone, opts...)
	s.running.AddBoth(func(_ struct{}, err error) (struct{}, error) {
		// After a Cancel the loop fails at once, on the goroutine that
		// cancels: the Cooperator is stopped on the loop.
		s.loop.CallSoon(c.Stop)
		s.finish(err)
		return struct{}{}, nil
	})
}

// cancel is the canceller of the returned Deferred, on any goroutine.
func (s *mapRun[A, R]) cancel() {
	s.mu.Lock()
	if s.fired {
		s.mu.Unlock()
		return
	}
	s.cancelled = true
	running := s.running
	s.mu.Unlock()
	if running != nil {
		running.Cancel()
	}
}

// finish fires the returned Deferred with the results or the error that
// ended the chunks' loop, unless it was cancelled.
func (s *mapRun[A, R]) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		return
	}
	s.fired = true
	var ee *cooperate.ElementError
	var ees *cooperate.ElementErrors
	switch {
	case err == nil && len(s.errs) == 0:
		// Gathered here rather than in a slice grown as chunks come: a
		// large slice grown many times costs more in fresh memory than
		// in copies.
		results := make([]R, 0, s.total)
		for _, part := range s.parts {
			results = append(results, part...)
		}
		s.parts = nil
		s.out.Callback(results)
		return
	case s.failed != nil:
		err = s.failed
	case err == nil, errors.As(err, &ees):
		// CollectErrors: the elements' own errors, and every element of
		// each chunk that failed whole.
		errs := s.errs
		if ees != nil {
			for _, ce := range ees.Errs {
				for k := range s.sizes[ce.Index] {
					errs = append(errs, &cooperate.ElementError{Index: s.starts[ce.Index] + k, Err: ce.Err})
				}
			}
		}
		slices.SortFunc(errs, func(a, b *cooperate.ElementError) int { return a.Index - b.Index })
		err = &cooperate.ElementErrors{Errs: errs}
	case errors.As(err, &ee):
		// A whole chunk failed: the error of its first element.
		err = &cooperate.ElementError{Index: s.starts[ee.Index], Err: ee.Err}
	}
	s.out.Errback(err)
}

// chunks cuts seq into chunks, sized as each is cut.
func (s *mapRun[A, R]) chunks(yield func([]A) bool) {
	next := 0
	var cur []A
	for v := range s.seq {
		if cur == nil {
			cur = make([]A, 0, s.size.size())
		}
		cur = append(cur, v)
		next++
		if len(cur) == cap(cur) {
			s.cut(next, cur)
			if !yield(cur) {
				return
			}
			cur = nil
		}
	}
	if len(cur) > 0 {
		s.cut(next, cur)
		yield(cur)
	}
}

// cut records a chunk that ends before element next.
func (s *mapRun[A, R]) cut(next int, chunk []A) {
	s.starts = append(s.starts, next-len(chunk))
	s.sizes = append(s.sizes, len(chunk))
	s.parts = append(s.parts, nil)
	s.total = next
}

// chunkDone takes chunk i's results, on the loop; the first failed
// element ends the map, unless the map collects errors.
func (s *mapRun[A, R]) chunkDone(i int, res chunkResult[R]) error {
	start := s.starts[i]
	if len(res.Values) != s.sizes[i] {
		return errShortChunk
	}
	if len(res.Errs) > 0 && !s.collect {
		k := res.Errs[0].Index
		s.failed = &cooperate.ElementError{Index: start + k, Err: res.elementError(s.name, 0)}
		return s.failed
	}
	for k, e := range res.Errs {
		s.errs = append(s.errs, &cooperate.ElementError{Index: start + e.Index, Err: res.elementError(s.name, k)})
	}
	s.parts[i] = res.Values
	s.size.observe(len(res.Values), time.Duration(res.Nanos))
	return nil
}

// chunkSizer sizes a map's chunks: a fixed size, or one that gives chunks
// of about work() of the workers' time, from what they took so far.
//
// A chunk costs the parent a frame, a wake-up and a pass of its loop
// whatever its size, and on a machine where waking a thread is dear (a
// virtual machine above all) that cost, taken from the processors the
// workers compute on, is a tenth of a millisecond or more: chunks of a
// millisecond of work lose a tenth of the workers' time to it. Larger
// chunks cost less, but the last chunks of a map may leave the other
// workers idle while they run. So a map starts with chunks of chunkWork,
// and lets them grow with the work done so far, to a chunkTail-th of it
// per chunk in flight, at most maxChunkWork: whenever the sequence ends,
// its last chunk is a small part of all the work, and a long map soon
// pays for a frame only every maxChunkWork.
type chunkSizer struct {
	fixed   int
	window  int           // the chunks in flight
	perElem time.Duration // a moving average of the time per element; 0 before the first chunk
	done    time.Duration // the workers' time for the chunks so far
}

const (
	chunkWork    = time.Millisecond
	maxChunkWork = 10 * time.Millisecond
	chunkTail    = 8
	maxAutoChunk = 4096
)

// work is the work to put in the next chunk.
func (z *chunkSizer) work() time.Duration {
	grown := z.done / time.Duration(chunkTail*max(z.window, 1))
	return min(max(grown, chunkWork), maxChunkWork)
}

func (z *chunkSizer) size() int {
	switch {
	case z.fixed > 0:
		return z.fixed
	case z.perElem <= 0:
		return 1
	}
	return int(min(max(z.work()/z.perElem, 1), maxAutoChunk))
}

// observe records that a chunk of n elements took d in a worker.
func (z *chunkSizer) observe(n int, d time.Duration) {
	if n == 0 || z.fixed > 0 {
		return
	}
	z.done += max(d, 0)
	per := max(d/time.Duration(n), 1)
	if z.perElem == 0 {
		z.perElem = per
		return
	}
	z.perElem = (3*z.perElem + per) / 4
}
