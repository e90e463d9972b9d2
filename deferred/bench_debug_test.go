package deferred_test

import (
	"testing"

	"github.com/twinego/twine/deferred"
)

// benchNewFire is BenchmarkCreateAddCallbackCallback's loop, with
// debugging mode set to on for the whole run.
func benchNewFire(b *testing.B, on bool) {
	was := deferred.Debugging()
	deferred.SetDebugging(on)
	defer deferred.SetDebugging(was)
	b.ReportAllocs()
	for b.Loop() {
		d := deferred.New[int]()
		d.AddCallback(double)
		d.Callback(1)
	}
}

// BenchmarkNewFireDebugOff measures a new Deferred, one callback and one
// fire with debugging mode off: it must cost what it costs without the
// mode (compare BenchmarkCreateAddCallbackCallback, here and before the
// mode existed).
func BenchmarkNewFireDebugOff(b *testing.B) { benchNewFire(b, false) }

// BenchmarkNewFireDebugOn is the same with debugging mode on: two stacks
// recorded per Deferred.
func BenchmarkNewFireDebugOn(b *testing.B) { benchNewFire(b, true) }

// BenchmarkString measures String on a fired Deferred.
func BenchmarkString(b *testing.B) {
	d := deferred.Succeed(42)
	b.ReportAllocs()
	for b.Loop() {
		_ = d.String()
	}
}
