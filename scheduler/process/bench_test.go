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
	"github.com/twinego/twine/scheduler/process"
)

// echoChild is the bare baseline the round trip is measured against: the
// test binary, started again, echoes length-prefixed frames from stdin to
// stdout, one write per frame, until stdin ends.
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

// BenchmarkPipeEcho is one round trip of a small frame to a child process
// over pipes and back, with nothing else: the floor under a process pool's
// round trip.
func BenchmarkPipeEcho(b *testing.B) {
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
	defer func() {
		_ = stdin.Close()
		require.NoError(b, cmd.Wait())
	}()
	r := bufio.NewReaderSize(stdout, 64<<10)
	// A call frame of the pool for square(7) is about this long.
	frame := binary.BigEndian.AppendUint32(nil, 8)
	frame = append(frame, "12345678"...)
	reply := make([]byte, len(frame))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdin.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is one tiny task at a time through a pool of one
// worker: Call from a goroutine, the result fired on the reactor, Wait on
// the goroutine again. Compare it with BenchmarkPipeEcho.
func BenchmarkRoundTrip(b *testing.B) {
	p := benchPool(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := square.Call(p, 7).Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThroughput is the cost per tiny task with many in flight, through
// pools of 1, 2 and 4 workers.
func BenchmarkThroughput(b *testing.B) {
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			p := benchPool(b, workers)
			const window = 1024 // tasks in flight
			slots := make(chan struct{}, window)
			release := func(int, error) (int, error) {
				<-slots
				return 0, nil
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

func benchPool(b *testing.B, workers int) *process.Pool {
	b.Helper()
	r := startReactor(b)
	p, err := process.NewPool(r,
		process.WithMinWorkers(workers),
		process.WithMaxWorkers(workers),
		process.WithMaxInFlight(1024),
	)
	require.NoError(b, err)
	b.Cleanup(func() { closePool(b, p) })
	// Warm every worker up.
	ds := make([]*deferred.Deferred[int], 64*workers)
	for i := range ds {
		ds[i] = square.Call(p, i)
	}
	must(b, deferred.All(ds...))
	return p
}
