// Command porting is the worked port of docs/porting.md: a small Twisted
// program, shown there beside this one piece by piece, that fetches three
// pages, at most two at a time, reports its progress every 100 ms, then
// counts the pages' letters cooperatively. It prints what the Twisted
// original prints, and its test checks that the pieces quoted in
// docs/porting.md are this file's code.
//
//	go run ./examples/porting
package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

var pages = map[string]time.Duration{ // page -> time to fetch
	"alpha": 150 * time.Millisecond,
	"beta":  50 * time.Millisecond,
	"gamma": 120 * time.Millisecond,
}

// fetch stands for a network request: the page's text, a while later.
func fetch(r *reactor.Reactor, name string) *deferred.Deferred[string] {
	return cooperate.DeferLater(r, pages[name], func() (string, error) {
		return strings.Repeat(name+" ", 3), nil
	})
}

// countLetters counts text's letters as a cooperative task, one letter a
// step, in slices between the reactor's other work.
func countLetters(c *cooperate.Cooperator, text string, counts map[rune]int) *cooperate.Task {
	letters := []rune(strings.ReplaceAll(text, " ", ""))
	return cooperate.Each(c, slices.Values(letters), func(ch rune) error {
		counts[ch]++
		return nil
	})
}

func program(w io.Writer, r *reactor.Reactor) *deferred.Deferred[struct{}] {
	return deferred.Async(func(a *deferred.Awaiter) (struct{}, error) {
		var fetched []string
		ticker := cooperate.NewLoopingCall(r, func() error {
			fmt.Fprintf(w, "progress: %d of %d pages\n", len(fetched), len(pages))
			return nil
		})
		ticker.Start(100*time.Millisecond, false)

		sem := deferred.NewSemaphore(2) // at most two fetches at a time
		var ds []*deferred.Deferred[string]
		for _, name := range slices.Sorted(maps.Keys(pages)) {
			d := deferred.RunDeferred(sem, func() *deferred.Deferred[string] { return fetch(r, name) })
			ds = append(ds, d.AddCallback(func(text string) (string, error) {
				fetched = append(fetched, name)
				return text, nil
			}))
		}
		texts, err := deferred.Await(a, deferred.All(ds...))
		_ = ticker.Stop()
		if err != nil {
			return struct{}{}, err
		}
		fmt.Fprintln(w, "fetched:", strings.Join(fetched, ", "))

		c := cooperate.New(r)
		defer c.Stop()
		counts := map[rune]int{}
		for _, text := range texts {
			if _, err := deferred.Await(a, countLetters(c, text, counts).Done()); err != nil {
				return struct{}{}, err
			}
		}
		letters := slices.SortedFunc(maps.Keys(counts), func(x, y rune) int {
			return cmp.Or(cmp.Compare(counts[y], counts[x]), cmp.Compare(x, y))
		})
		var top []string
		for _, ch := range letters[:3] {
			top = append(top, fmt.Sprintf("%c=%d", ch, counts[ch]))
		}
		fmt.Fprintln(w, "top letters:", strings.Join(top, ", "))
		return struct{}{}, nil
	})
}

func run(w io.Writer) error {
	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		return program(w, r)
	})
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "porting:", err)
		os.Exit(1)
	}
}
