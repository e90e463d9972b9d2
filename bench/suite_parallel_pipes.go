package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// The floor under the parallel suite's loops over processes: plain Go
// driving child processes of this executable over pipes.

// envSpin makes this executable, started again, a child of the plain Go
// baselines of cpu_processes_floor and cpu_process_calls instead of the
// command.
const envSpin = "TWINE_BENCH_SPIN_CHILD"

// spinChild reads requests from standard input, 16 bytes each (rounds,
// then a count of elements), and answers each with the sum of spinFor's
// results for that many elements, 8 bytes, until its input ends. It
// returns the exit status.
func spinChild() int {
	r := bufio.NewReaderSize(os.Stdin, 4<<10)
	var in [16]byte
	var out [8]byte
	for {
		if _, err := io.ReadFull(r, in[:]); err != nil {
			return 0
		}
		rounds, count := binary.LittleEndian.Uint64(in[:8]), binary.LittleEndian.Uint64(in[8:])
		var sum uint64
		for range count {
			sum += spinFor(int(rounds))
		}
		binary.LittleEndian.PutUint64(out[:], sum)
		if _, err := os.Stdout.Write(out[:]); err != nil {
			return 1
		}
	}
}

// cpuPipes is the floor under the loops over processes: two child
// processes, each sent perMsg elements' rounds in a message over a pipe
// and answering with the sum of their results, 2 messages in flight each,
// driven by a goroutine per child that blocks on the pipes, without pool,
// Deferred or reactor; the children run at this process's priority. The
// sum comes to the reactor at the end.
func cpuPipes(perMsg int) cpuWay {
	return func(r *reactor.Reactor, _ *cooperate.Cooperator, n, rounds int, sum *uint64, begin func()) (*deferred.Deferred[struct{}], func(), error) {
		return pipeLoop(r, n, rounds, perMsg, sum, begin)
	}
}

func pipeLoop(r *reactor.Reactor, n, rounds, perMsg int, sum *uint64, begin func()) (*deferred.Deferred[struct{}], func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	type child struct {
		cmd *exec.Cmd
		in  io.WriteCloser
		out *bufio.Reader
	}
	var children []child
	cleanup := func() {
		for _, c := range children {
			_ = c.in.Close()
			_ = c.cmd.Wait()
		}
	}
	// request fills req with a request for count elements, without
	// allocating: it is on the floor's path once a message.
	request := func(req *[16]byte, count int) []byte {
		binary.LittleEndian.PutUint64(req[:8], uint64(rounds))
		binary.LittleEndian.PutUint64(req[8:], uint64(count))
		return req[:]
	}
	var reply [8]byte
	for range 2 {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), envSpin+"=1")
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			_ = in.Close()
			cleanup()
			return nil, nil, err
		}
		c := child{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 4<<10)}
		children = append(children, c)
		// Warm up: the child has started once it answers.
		var req [16]byte
		if _, err = in.Write(request(&req, 0)); err == nil {
			_, err = io.ReadFull(c.out, reply[:])
		}
		if err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	begin()
	d := deferred.New[struct{}]()
	var taken atomic.Int64 // elements sent
	var total atomic.Uint64
	var wg sync.WaitGroup
	errs := make([]error, len(children))
	for k, c := range children {
		wg.Go(func() {
			var reply [8]byte
			var req [16]byte
			inFlight := 0
			send := func() error {
				end := taken.Add(int64(perMsg))
				count := min(int64(perMsg), int64(n)-(end-int64(perMsg)))
				if count <= 0 {
					return nil
				}
				inFlight++
				_, err := c.in.Write(request(&req, int(count)))
				return err
			}
			for range 2 {
				if errs[k] = send(); errs[k] != nil {
					return
				}
			}
			for inFlight > 0 {
				if _, errs[k] = io.ReadFull(c.out, reply[:]); errs[k] != nil {
					return
				}
				inFlight--
				total.Add(binary.LittleEndian.Uint64(reply[:]))
				if errs[k] = send(); errs[k] != nil {
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		r.CallSoon(func() {
			if err := errors.Join(errs...); err != nil {
				d.Errback(err)
				return
			}
			*sum += total.Load()
			d.Callback(struct{}{})
		})
	}()
	return d, cleanup, nil
}
