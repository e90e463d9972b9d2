package process

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
)

// The environment variable that makes Main serve as a worker, and the one
// that tells it how far to raise its nice value (WithWorkerNice).
const (
	envWorker      = "TWINE_PROCESS_WORKER"
	envWorkerValue = "1"
	envNice        = "TWINE_PROCESS_NICE"
)

var mainCalled atomic.Bool

// serving is the worker's server, in a worker process; tests reach its
// output stream through it (export_test.go).
var serving *server

// Main turns this process into a worker if a [Pool] started it, and returns
// at once otherwise. Call it first in main (and in TestMain, for tests that
// use pools), after the functions have been registered, which package-level
// variables and init functions have done by then:
//
//	func main() {
//		process.Main()
//		// the program itself
//	}
//
// In a worker, Main never returns: it serves tasks until its input closes,
// which the pool does when it stops the worker or when the parent process
// dies, then exits the process. It cancels the contexts of the tasks still
// running and does not wait for them.
//
// Main fixes the set of registered functions: [Register] panics after it.
// [NewPool] requires it, so that a worker cannot start the program instead
// of serving. Calling Main again does nothing more.
func Main() {
	freeze()
	mainCalled.Store(true)
	if os.Getenv(envWorker) != envWorkerValue {
		return
	}
	// Processes that a task starts are not workers.
	_ = os.Unsetenv(envWorker)
	if n, err := strconv.Atoi(os.Getenv(envNice)); err == nil && n > 0 {
		if err := lowerPriority(n); err != nil {
			fmt.Fprintln(os.Stderr, "process: worker: raising its nice value:", err)
		}
	}
	_ = os.Unsetenv(envNice)
	os.Exit(serve())
}

// Exit codes of a worker.
const (
	exitOK       = 0
	exitBroken   = 2 // the protocol broke: bad frame, or the parent went away
	exitRefused  = 3 // the handshake found a mismatch
	exitNoStdio  = 4 // could not set up its streams
	exitWriteErr = 5 // could not write to the parent
)

func serve() int {
	in, out, err := takeStdio()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitNoStdio
	}
	fr := newFrameReader(in, "the parent", helloMax)
	f, err := fr.readFrame()
	if err != nil {
		fmt.Fprintln(os.Stderr, "process: worker: reading the handshake:", err)
		return exitBroken
	}
	h, err := parseHello(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "process: worker: the handshake:", err)
		return exitBroken
	}
	var problem string
	var codec Codec
	switch {
	case h.version != protocolVersion:
		problem = fmt.Sprintf("the parent speaks protocol version %d, the worker version %d", h.version, protocolVersion)
	case diffSignatures(h.funcs, signatures()) != "":
		problem = "registered functions differ: " + diffSignatures(h.funcs, signatures())
	default:
		var ok bool
		if codec, ok = lookupCodec(h.codec); !ok {
			problem = fmt.Sprintf("the worker has no codec %q (RegisterCodec must run in an init function)", h.codec)
		}
	}
	reply := appendHello(nil, &hello{
		version: protocolVersion,
		pid:     uint64(os.Getpid()),
		problem: problem,
		funcs:   signatures(),
	})
	if _, err := out.Write(reply); err != nil {
		return exitWriteErr
	}
	if problem != "" {
		fmt.Fprintln(os.Stderr, "process: worker: handshake refused:", problem)
		return exitRefused
	}
	fr.limit = int(min(h.maxFrame, 1<<31-1))
	s := &server{
		fr:       fr,
		out:      out,
		maxFrame: fr.limit,
		maxIdle:  int(min(max(h.depth, 1), 1<<16)),
		dec:      codec.NewDecoder(),
		enc:      codec.NewEncoder(),
		tasks:    make(map[uint64]*running),
	}
	fr.r = newInput(in, s.noTasks, s.hotCall)
	serving = s
	return s.loop()
}
