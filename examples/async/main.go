// Command async writes Deferred-based code as straight-line code with
// deferred.Async and deferred.Await: Twisted's inlineCallbacks, or
// "async def" with "await", in Go.
//
// A small shop answers lookups after a while (DeferLater on a reactor). An
// Async body looks a customer up, then their orders, handling a missing
// customer with errors.Is as a try/except would; two bodies wait side by
// side under All; a timeout and a cancellation reach the Deferred a body
// waits on, and the body sees them as errors from Await.
//
// A body runs on a goroutine of its own, but never at the same time as the
// reactor's callbacks: the shop's counters are shared by both without a
// lock, and the race detector agrees (go test -race ./examples/async).
//
//	go run ./examples/async
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "async:", err)
		os.Exit(1)
	}
}

type customer struct {
	id   int
	name string
}

type order struct {
	item  string
	cents int
}

var errNoSuchCustomer = errors.New("shop: no such customer")

// shop answers lookups on the reactor after a delay, as a database would.
// Its fields are touched by reactor callbacks and by Async bodies alike.
type shop struct {
	r         *reactor.Reactor
	customers map[string]customer
	orders    map[int][]order
	lookups   int
}

func (s *shop) customer(name string) *deferred.Deferred[customer] {
	return cooperate.DeferLater(s.r, 50*time.Millisecond, func() (customer, error) {
		s.lookups++
		c, ok := s.customers[name]
		if !ok {
			return customer{}, fmt.Errorf("%w: %q", errNoSuchCustomer, name)
		}
		return c, nil
	})
}

func (s *shop) ordersOf(id int) *deferred.Deferred[[]order] {
	return cooperate.DeferLater(s.r, 80*time.Millisecond, func() ([]order, error) {
		s.lookups++
		return s.orders[id], nil
	})
}

// summary looks up a customer, then their orders: two waits, written as
// straight-line code. It returns at once with a Deferred of the summary.
func (s *shop) summary(name string) *deferred.Deferred[string] {
	return deferred.Async(func(a *deferred.Awaiter) (string, error) {
		c, err := deferred.Await(a, s.customer(name))
		if errors.Is(err, errNoSuchCustomer) {
			return name + ": not a customer", nil // handled, as in an except clause
		}
		if err != nil {
			return "", err
		}
		orders, err := deferred.Await(a, s.ordersOf(c.id))
		if err != nil {
			return "", err
		}
		total := 0
		for _, o := range orders {
			total += o.cents
		}
		return fmt.Sprintf("%s: %d order(s), %d.%02d in all", c.name, len(orders), total/100, total%100), nil
	})
}

// run runs the walk-through on a reactor, writing to w.
func run(w io.Writer) error {
	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		s := &shop{
			r:         r,
			customers: map[string]customer{"ada": {1, "Ada"}, "grace": {2, "Grace"}},
			orders: map[int][]order{
				1: {{"notebook", 1250}, {"pen", 300}},
				2: {{"compiler manual", 4999}},
			},
		}
		start := r.Now()
		at := func() string {
			return fmt.Sprintf("%4dms", r.Now().Sub(start).Round(10*time.Millisecond).Milliseconds())
		}

		return deferred.Async(func(a *deferred.Awaiter) (struct{}, error) {
			// One after the other: 50 ms for the customer, 80 for the orders.
			line, err := deferred.Await(a, s.summary("ada"))
			if err != nil {
				return struct{}{}, err
			}
			fmt.Fprintln(w, at(), line)

			// Side by side: both bodies wait at once, so this takes as long
			// as one of them.
			lines, err := deferred.Await(a, deferred.All(s.summary("grace"), s.summary("bob")))
			if err != nil {
				return struct{}{}, err
			}
			for _, line := range lines {
				fmt.Fprintln(w, at(), line)
			}

			// A timeout cancels the Deferred the body waits on; Await
			// returns ErrTimeout.
			slow := cooperate.DeferLater(r, time.Second, func() (string, error) { return "the yearly report", nil })
			_, err = deferred.Await(a, slow.AddTimeout(r, 100*time.Millisecond))
			fmt.Fprintln(w, at(), "yearly report:", err, "| is ErrTimeout:", errors.Is(err, deferred.ErrTimeout))

			// Cancelling an Async cancels what its body waits on; the body
			// sees ErrCancelled and its deferred calls run, as finally
			// clauses would.
			lookup := deferred.Async(func(a *deferred.Awaiter) (int, error) {
				defer func() { fmt.Fprintln(w, at(), "  the cancelled body cleans up") }()
				orders, err := deferred.Await(a, s.ordersOf(1))
				return len(orders), err
			})
			r.CallLater(20*time.Millisecond, lookup.Cancel)
			_, err = deferred.Await(a, lookup)
			fmt.Fprintln(w, at(), "cancelled lookup:", err, "| is ErrCancelled:", errors.Is(err, deferred.ErrCancelled))

			fmt.Fprintln(w, at(), "lookups made:", s.lookups)
			return struct{}{}, nil
		})
	})
}
