package reactor_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
)

// BenchmarkSpinRoundTrip is one round trip at a time from the reactor,
// through a pipe, to a goroutine that waits for it in a blocking read (a
// system call, as a worker process's does) and hands it back with CallSoon.
// A reader in a system call keeps its thread and its scheduler slot, so
// waking a sleeping reactor for its work takes a second thread: the case a
// short spin before sleeping (spin=50µs, the default) saves; spin=0s sleeps
// at once. Compare the two, run side by side.
func BenchmarkSpinRoundTrip(b *testing.B) {
	for _, spin := range []time.Duration{0, reactor.DefaultSpin} {
		b.Run("spin="+spin.String(), func(b *testing.B) {
			var fds [2]int
			require.NoError(b, syscall.Pipe(fds[:]))
			pr, pw := fds[0], fds[1]
			r := reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(newLogger()), reactor.WithSpin(spin))
			stop := start(b, r)
			var step func()
			done := make(chan error, 1)
			step = func() {
				if !b.Loop() {
					done <- nil
					return
				}
				if _, err := syscall.Write(pw, []byte{1}); err != nil {
					done <- err
				}
			}
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				buf := make([]byte, 1)
				for {
					if n, err := syscall.Read(pr, buf); n == 0 || err != nil {
						return // the write end is closed
					}
					r.CallSoon(step)
				}
			}()
			b.ReportAllocs()
			r.CallSoon(step)
			require.NoError(b, <-done)
			b.ReportMetric(float64(r.Stats().Spins)/float64(b.N), "spins/op")
			stop()
			require.NoError(b, syscall.Close(pw))
			<-readerDone
			require.NoError(b, syscall.Close(pr))
		})
	}
}
