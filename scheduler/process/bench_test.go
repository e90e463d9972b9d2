package process_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// echoChild is the bare baseline of the round trip: the test binary,
// started again, echoes length-prefixed frames from stdin to stdout, one
// write per frame, until stdin ends.
func echoChild() int {
	r := bufio.NewReaderSize(os.Stdin, 64<<10)
	buf := make([]byte, 0, 64<<10)
	for {
		buf = buf[:4]
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0
		}
		n := int(binary.BigEndian.Uint32(buf))
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			return 1
		}
		if _, err := os.Stdout.Write(buf); err != nil {
			return 1
		}
	}
}

// startEcho starts the echo child and returns its pipes.
func startEcho(b *testing.B) (io.WriteCloser, io.Reader) {
	stdin, stdout, _ := startEchoPID(b)
	return stdin, stdout
}

// startEchoPID is startEcho that also returns the child's pid.
func startEchoPID(b *testing.B) (io.WriteCloser, io.Reader, int) {
	exe, err := os.Executable()
	require.NoError(b, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envEcho+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	b.Cleanup(func() {
		_ = stdin.Close()
		require.NoError(b, cmd.Wait())
	})
	return stdin, stdout, cmd.Process.Pid
}

// echoFrame is as long as the pool's call frame for square(7).
var echoFrame = binary.BigEndian.AppendUint32(nil, 8)

func init() { echoFrame = append(echoFrame, "12345678"...) }

// BenchmarkPipeEcho is one round trip of a small frame to a child process
// over pipes and back, with nothing else: one goroutine writes the frame
// and reads the echo. It is the floor under any process pool's round trip.
func BenchmarkPipeEcho(b *testing.B) {
	stdin, stdout := startEcho(b)
	b.ReportAllocs()
	echoRounds(b, stdin, stdout)
}

// echoRounds writes echoFrame to the echo child and reads its echo, as
// long as b.Loop says.
func echoRounds(b *testing.B, stdin io.Writer, stdout io.Reader) {
	reply := make([]byte, len(echoFrame))
	for b.Loop() {
		if _, err := stdin.Write(echoFrame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(stdout, reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipeEchoHandoff is BenchmarkPipeEcho with the echo read by a
// goroutine of its own, which hands it to the writer over a channel: the
// floor under a pool whose worker's reader goroutine hands the answers to
// an event loop, as it does for calls made from other goroutines than the
// loop's.
func BenchmarkPipeEchoHandoff(b *testing.B) {
	stdin, stdout := startEcho(b)
	got := make(chan error)
	go func() {
		reply := make([]byte, len(echoFrame))
		for {
			_, err := io.ReadFull(stdout, reply)
			got <- err
			if err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdin.Write(echoFrame); err != nil {
			b.Fatal(err)
		}
		if err := <-got; err != nil {
			b.Fatal(err)
		}
	}
	_ = stdin.Close()
	<-got // the reader's EOF
}

// BenchmarkRoundTrip is one tiny task at a time through a pool of one
// worker, the Twisted way: each call is made on the reactor, from the
// callback of the previous one. Compare it with BenchmarkPipeEcho and
// BenchmarkPipeEchoHandoff.
func BenchmarkRoundTrip(b *testing.B) {
	r, p := benchPool(b, 1)
	b.ReportAllocs()
	roundTrips(b, r, p)
}

// roundTrips calls square on p as long as b.Loop says, one call at a time,
// each from the callback of the one before on r, and returns once the
// last is back.
func roundTrips(b *testing.B, r *reactor.Reactor, p *process.Pool) {
	done := make(chan error, 1)
	var next func()
	next = func() {
		if !b.Loop() { // on the reactor: the calls are sequential all the same
			done <- nil
			return
		}
		square.Call(p, 7).AddBoth(func(v int, err error) (int, error) {
			if err != nil {
				done <- err
				return v, err
			}
			next()
			return v, nil
		})
	}
	r.CallSoon(next)
	require.NoError(b, <-done)
}

// BenchmarkRoundTripWait is one tiny task at a time from a goroutine that
// is not the reactor's: Call, then Wait for the result fired on the
// reactor.
func BenchmarkRoundTripWait(b *testing.B) {
	_, p := benchPool(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := square.Call(p, 7).Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThroughput is the cost per tiny task with many in flight (up to
// 1024), through pools of 1, 2 and 4 workers.
func BenchmarkThroughput(b *testing.B) {
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			_, p := benchPool(b, workers)
			const window = 1024
			slots := make(chan struct{}, window)
			release := func(v int, err error) (int, error) {
				if err != nil {
					b.Error(err)
				}
				<-slots
				return v, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				slots <- struct{}{}
				square.Call(p, 7).AddBoth(release)
			}
			for range window {
				slots <- struct{}{}
			}
		})
	}
}

// benchPool returns a pool of the given number of workers on a reactor,
// warmed up.
func benchPool(b *testing.B, workers int) (*reactor.Reactor, *process.Pool) {
	b.Helper()
	r := startReactor(b)
	p := poolOn(b, r,
		process.WithMinWorkers(workers),
		process.WithMaxWorkers(workers),
		process.WithMaxInFlight(1024),
	)
	ds := make([]*deferred.Deferred[int], 256*workers)
	for i := range ds {
		ds[i] = square.Call(p, i)
	}
	must(b, deferred.All(ds...))
	return r, p
}
