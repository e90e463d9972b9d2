// Command deferreds walks through the examples of Twisted's "Deferred
// Reference" and "Introduction to Deferreds" documents, ported to twine:
// a delayed result and its callback, errbacks, the difference between
// AddCallbacks and AddCallback followed by AddErrback, chaining Deferreds,
// Maybe (maybeDeferred), List (DeferredList) and All (gatherResults), and
// cancellation.
//
// Each section runs on a reactor once the one before it has finished. The
// delays are 20 ms where Twisted's documents use seconds.
//
//	go run ./examples/deferreds
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// delay stands for the time a real operation would take.
const delay = 20 * time.Millisecond

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deferreds:", err)
		os.Exit(1)
	}
}

// run runs every section in order on a reactor, writing to w.
func run(w io.Writer) error {
	fmt.Fprintln(w, "The examples of Twisted's Deferred documentation, ported to twine.")
	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		x := &demo{r: r, w: w}
		sections := []func() *deferred.Deferred[struct{}]{
			x.callbacks,
			x.errbacks,
			x.addCallbacks,
			x.chaining,
			x.maybe,
			x.list,
			x.listOrder,
			x.all,
			x.cancellation,
		}
		d := deferred.Succeed(struct{}{})
		for _, section := range sections {
			d = deferred.ThenDeferred(d, func(struct{}) *deferred.Deferred[struct{}] { return section() })
		}
		return d
	})
}

// demo holds what the sections share: the reactor and the output.
type demo struct {
	r *reactor.Reactor
	w io.Writer
}

func (x *demo) title(s string) {
	fmt.Fprintf(x.w, "\n== %s\n", s)
}

func (x *demo) println(a ...any) {
	fmt.Fprintln(x.w, a...)
}

// done turns the end of a chain into the end of a section.
func done[T any](d *deferred.Deferred[T]) *deferred.Deferred[struct{}] {
	return deferred.Then(d, func(T) (struct{}, error) { return struct{}{}, nil })
}

// getDummyData simulates a delayed result: the Deferred fires with v*3
// after a while, on the reactor goroutine.
func (x *demo) getDummyData(v int) *deferred.Deferred[int] {
	d := deferred.New[int]()
	x.r.CallLater(delay, func() { d.Callback(v * 3) })
	return d
}

// callbacks: a function returns a Deferred, the caller adds a callback that
// receives the result when it comes.
func (x *demo) callbacks() *deferred.Deferred[struct{}] {
	x.title("a callback receives the result when it comes")
	d := x.getDummyData(3)
	d.AddCallback(func(v int) (int, error) {
		x.println("data:", v)
		return v, nil
	})
	return done(d)
}

// errOdd is the error of getter for odd numbers.
var errOdd = errors.New("you used an odd number")

// getter fires its Deferred on the callback path or the errback path,
// depending on the result, as the Deferred Reference's Getter class does.
type getter struct {
	x *demo
	d *deferred.Deferred[int]
}

// gotResults fires the pending Deferred. It forgets it first, so that it can
// never fire it twice and a callback may start a new request.
func (g *getter) gotResults(v int) {
	d := g.d
	if d == nil {
		g.x.println("nowhere to put results")
		return
	}
	g.d = nil
	if v%2 == 0 {
		d.Callback(v * 3)
	} else {
		d.Errback(errOdd)
	}
}

// getDummyData asks for a result and adds the first callback itself: the
// result reaches the caller's callbacks already turned into HTML.
func (g *getter) getDummyData(v int) *deferred.Deferred[string] {
	g.d = deferred.New[int]()
	d := deferred.Then(g.d, func(v int) (string, error) { // Twisted's _toHTML
		return fmt.Sprintf("<p>Result: %d</p>", v), nil
	})
	g.x.r.CallLater(delay, func() { g.gotResults(v) })
	return d
}

// errbacks: an error skips the callbacks and goes to the next errback.
func (x *demo) errbacks() *deferred.Deferred[struct{}] {
	x.title("an error goes down the errbacks, a result down the callbacks")
	printData := func(s string) (string, error) {
		x.println("data:", s)
		return s, nil
	}
	printError := func(err error) (string, error) {
		x.println("error:", err)
		return "", nil // handled: the chain goes back to its callbacks
	}
	var ds []*deferred.Deferred[string]
	for _, v := range []int{3, 4} {
		g := &getter{x: x}
		d := g.getDummyData(v)
		d.AddCallback(printData)
		d.AddErrback(printError)
		ds = append(ds, d)
	}
	return done(deferred.All(ds...))
}

// addCallbacks: AddCallbacks(cb, eb) puts cb and eb in one step, so eb does
// not see cb's error; AddCallback(cb) then AddErrback(eb) is two steps, and
// eb does.
func (x *demo) addCallbacks() *deferred.Deferred[struct{}] {
	x.title("AddCallbacks(cb, eb) is not AddCallback(cb) then AddErrback(eb)")
	callback1 := func(string) (string, error) { return "", errors.New("callback1 failed") }
	callback2 := func(s string) (string, error) { return s, nil }
	errback := func(name string) func(error) (string, error) {
		return func(err error) (string, error) {
			x.println(" ", name, "handles:", err)
			return "", nil
		}
	}

	x.println("case 1: AddCallback(callback1), AddErrback(errback1), ...")
	d := deferred.Succeed("data")
	d.AddCallback(callback1)
	d.AddErrback(errback("errback1"))
	d.AddCallback(callback2)
	d.AddErrback(errback("errback2"))

	x.println("case 2: AddCallbacks(callback1, errback1), AddCallbacks(callback2, errback2)")
	d = deferred.Succeed("data")
	d.AddCallbacks(callback1, errback("errback1"))
	d.AddCallbacks(callback2, errback("errback2"))
	return deferred.Succeed(struct{}{})
}

// chaining: a callback that returns a Deferred pauses the chain until that
// Deferred fires, and the chain goes on with its result.
func (x *demo) chaining() *deferred.Deferred[struct{}] {
	x.title("a callback that returns a Deferred pauses the chain")
	start := x.r.Now()
	d := x.getDummyData(1)                          // 3, in 20 ms
	d2 := deferred.ThenDeferred(d, x.getDummyData)  // 9, 20 ms later
	d3 := deferred.ThenDeferred(d2, x.getDummyData) // 27, 20 ms later
	return deferred.Then(d3, func(v int) (struct{}, error) {
		x.println("data:", v, "after", x.r.Now().Sub(start).Truncate(delay))
		return struct{}{}, nil
	})
}

// maybe: a library function that takes a check which may answer at once or
// later. In Twisted, maybeDeferred accepts both kinds of function; in Go the
// library takes the Deferred-returning kind, and deferred.Maybe adapts the
// other, turning an error or a panic into a failed Deferred.
func (x *demo) maybe() *deferred.Deferred[struct{}] {
	x.title("Maybe (maybeDeferred): answers now or later, one interface")
	known := []string{"alice", "angus", "agnes"}
	isValid := func(user string) bool {
		for _, k := range known {
			if k == user {
				return true
			}
		}
		return false
	}
	synchronous := func(user string) *deferred.Deferred[bool] {
		return deferred.Maybe(func() (bool, error) { return isValid(user), nil })
	}
	asynchronous := func(user string) *deferred.Deferred[bool] {
		d := deferred.New[bool]()
		x.r.CallLater(delay, func() { d.Callback(isValid(user)) })
		return d
	}
	authenticate := func(how string, check func(string) *deferred.Deferred[bool], user string) *deferred.Deferred[bool] {
		return check(user).AddCallback(func(ok bool) (bool, error) {
			if ok {
				x.println(how+":", user, "is authenticated")
			} else {
				x.println(how+":", user, "is not authenticated")
			}
			return ok, nil
		})
	}
	return done(deferred.All(
		authenticate("synchronous", synchronous, "alice"),
		authenticate("synchronous", synchronous, "bob"),
		authenticate("asynchronous", asynchronous, "agnes"),
	))
}

// list: List waits for every input and reports each outcome, success or
// failure, in input order.
func (x *demo) list() *deferred.Deferred[struct{}] {
	x.title("List (DeferredList) reports every outcome")
	d1, d2, d3 := deferred.New[string](), deferred.New[string](), deferred.New[string]()
	dl := deferred.List([]*deferred.Deferred[string]{d1, d2, d3}, deferred.ConsumeErrors())
	dl.AddCallback(func(outcomes []deferred.Outcome[string]) ([]deferred.Outcome[string], error) {
		for _, o := range outcomes {
			if o.OK() {
				x.println("success:", o.Value)
			} else {
				x.println("failure:", o.Err)
			}
		}
		return outcomes, nil
	})
	d1.Callback("one")
	d2.Errback(errors.New("bang"))
	d3.Callback("three") // dl fires now, inside d3's chain
	return done(dl)
}

// listOrder: List records the result an input's chain has when it reaches
// the step List added. A callback added before List changes what List
// sees; one added after runs after List has taken its value.
func (x *demo) listOrder() *deferred.Deferred[struct{}] {
	x.title("List sees what an input's chain holds where List joined it")
	addTen := func(s string) (string, error) { return s + " ten", nil }
	show := func(label string, outcomes []deferred.Outcome[string]) {
		var vs []string
		for _, o := range outcomes {
			vs = append(vs, o.Value)
		}
		x.println(label, strings.Join(vs, ", "))
	}

	d1, d2 := deferred.New[string](), deferred.New[string]()
	d1.AddCallback(addTen)
	before := deferred.List([]*deferred.Deferred[string]{d1, d2})
	d1.Callback("one")
	d2.Callback("two")
	r1, _ := before.Result()
	show("callback added before List:", r1)

	d1, d2 = deferred.New[string](), deferred.New[string]()
	after := deferred.List([]*deferred.Deferred[string]{d1, d2})
	d1.AddCallback(addTen)
	d1.Callback("one")
	d2.Callback("two")
	r2, _ := after.Result()
	show("callback added after List: ", r2)
	return deferred.Succeed(struct{}{})
}

// all: All (gatherResults) joins results in input order, or fails with the
// first error.
func (x *demo) all() *deferred.Deferred[struct{}] {
	x.title("All (gatherResults) joins results, or fails on the first error")
	d1, d2 := deferred.New[string](), deferred.New[string]()
	both := deferred.All(d1, d2)
	both.AddCallback(func(vs []string) ([]string, error) {
		x.println("results:", vs)
		return vs, nil
	})
	d1.Callback("one")
	x.println("d1 fired; All still waits for d2")
	d2.Callback("two")

	d3, d4 := deferred.New[string](), deferred.New[string]()
	failed := deferred.All(d3, d4)
	failed.AddErrback(func(err error) ([]string, error) {
		var first *deferred.FirstError
		if errors.As(err, &first) {
			x.println("failed: input", first.Index, "with", first.Err)
		}
		return nil, nil
	})
	d4.Errback(errors.New("connection refused"))
	d3.Callback("three") // too late: All has failed already
	return deferred.Succeed(struct{}{})
}

// cancellation: a canceller stops the work behind a Deferred; without one,
// Cancel still fails the Deferred with ErrCancelled, and ignores the late
// result.
func (x *demo) cancellation() *deferred.Deferred[struct{}] {
	x.title("Cancel, with and without a canceller")
	// With a canceller: cancelling stops the operation itself.
	var call scheduler.Call
	d := deferred.NewWithCanceller(func(*deferred.Deferred[string]) {
		x.println("canceller: aborting the operation")
		_ = call.Cancel()
	})
	call = x.r.CallLater(delay, func() { d.Callback("a result nobody wants") })
	d.AddErrback(func(err error) (string, error) {
		x.println("errback:", err, "| is ErrCancelled:", errors.Is(err, deferred.ErrCancelled))
		return "", nil
	})
	d.Cancel()

	// Without one: the operation goes on, and its result is ignored once.
	ignorant := deferred.New[string]()
	ignorant.AddErrback(func(err error) (string, error) {
		x.println("errback:", err)
		return "", nil
	})
	ignorant.Cancel()
	finished := deferred.New[struct{}]()
	x.r.CallLater(delay, func() {
		ignorant.Callback("completed") // ignored: no AlreadyCalled panic
		x.println("the late result was ignored")
		finished.Callback(struct{}{})
	})
	return finished
}
