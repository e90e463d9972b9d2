package deferred

import (
	"fmt"
	"reflect"
	"strings"
)

// String describes the Deferred as Twisted's repr does, for logs and
// debugging: its type and address, then its state, as in
//
//	<Deferred[int] at 0xc000012345 not fired>
//	<Deferred[string] at 0xc000012345 current result: "orange">
//	<Deferred[int] at 0xc000012345 current error: deferred: cancelled>
//	<Deferred[int] at 0xc000012345 current result: 7 (paused)>
//	<Deferred[any] at 0xc000012345 waiting on Deferred at 0xc000067890>
//	<Deferred[int] at 0xc000012345 running its callbacks>
//
// "current" is what the chain holds now, after the callbacks that have run:
// a chain that has consumed its result holds the zero value. While a
// goroutine runs the chain (String called from one of its callbacks, for
// one), the result is that goroutine's alone, and String says "running its
// callbacks" instead. A Deferred created in debugging mode (see
// [SetDebugging]) also says where it was created:
// "... created at main.fetch (main.go:12)>".
//
// String is safe from any goroutine and never waits for the chain: it takes
// the Deferred's lock for the few instructions needed to copy the state, and
// formats the result (a string quoted, anything else with %v) after it has
// let go. It costs a few hundred nanoseconds: keep it off hot paths.
func (d *Deferred[T]) String() string {
	var (
		v   T
		err error
	)
	s := d.lock()
	on := d.waitingOn
	if s&(sCalled|sRunning|sWaiting) == sCalled {
		// Only then is the result d's own, and the lock guards it.
		v, err = d.result, d.err
	}
	d.unlock(s)

	var b strings.Builder
	fmt.Fprintf(&b, "<Deferred[%s] at %p", typeName[T](), d)
	switch {
	case s&sCalled == 0:
		b.WriteString(" not fired")
	case s&sWaiting != 0:
		fmt.Fprintf(&b, " waiting on Deferred at %p", on)
	case s&sRunning != 0:
		b.WriteString(" running its callbacks")
	case err != nil:
		b.WriteString(" current error: " + err.Error())
	default:
		b.WriteString(" current result: ")
		if str, ok := any(v).(string); ok {
			fmt.Fprintf(&b, "%q", str)
		} else {
			fmt.Fprintf(&b, "%v", v)
		}
	}
	if s&sPaused != 0 {
		b.WriteString(" (paused)")
	}
	if info := d.debug(); info != nil {
		if created := frames(info.created); len(created) > 0 {
			b.WriteString(" created at " + created[0])
		}
	}
	b.WriteString(">")
	return b.String()
}

// typeName is T as Go source would write it, "any" for the empty interface.
func typeName[T any]() string {
	if isAny[T]() {
		return "any"
	}
	return reflect.TypeFor[T]().String()
}
