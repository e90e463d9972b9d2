//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// Capture gathers what a child writes, and stops the reactor when the
// child has ended.
type Capture struct {
	protocol.ProcessBase
	r        *reactor.Reactor
	out, err bytes.Buffer
}

func (c *Capture) OutReceived(data []byte) { c.out.Write(data) }
func (c *Capture) ErrReceived(data []byte) { c.err.Write(data) }

func (c *Capture) ProcessEnded(reason error) {
	fmt.Printf("stdout %q, stderr %q\n", c.out.String(), c.err.String())
	var term *protocol.ProcessTerminated
	if errors.As(reason, &term) {
		fmt.Println("exit code:", term.ExitCode)
	} else {
		fmt.Println("ended:", reason)
	}
	c.r.Stop()
}

// A child that reads its standard input, cat, run on the reactor: what the
// protocol writes comes back; closing standard input ends it.
func ExampleSpawnProcess() {
	r := reactor.New()
	t, err := protocol.SpawnProcess(r, &Capture{r: r}, "cat", []string{"cat"})
	if err != nil {
		fmt.Println(err)
		return
	}
	t.Write([]byte("hello, "))
	t.Write([]byte("world\n"))
	t.CloseStdin()
	r.Run()
	// Output:
	// stdout "hello, world\n", stderr ""
	// ended: protocol: process finished with exit code 0
}

// A shell command's two outputs and its exit code.
func ExampleSpawnProcess_shell() {
	r := reactor.New()
	_, err := protocol.SpawnProcess(r, &Capture{r: r}, "sh",
		[]string{"sh", "-c", "echo out; echo err >&2; exit 3"})
	if err != nil {
		fmt.Println(err)
		return
	}
	r.Run()
	// Output:
	// stdout "out\n", stderr "err\n"
	// exit code: 3
}

// A program that is not there is an error from SpawnProcess, at once.
func ExampleSpawnProcess_missing() {
	r := reactor.New()
	r.CallWhenRunning(func() {
		_, err := protocol.SpawnProcess(r, &Capture{r: r}, "/no/such/program", nil)
		fmt.Println(errors.Is(err, protocol.ErrSpawn), errors.Is(err, syscall.ENOENT))
		r.Stop()
	})
	r.Run()
	// Output:
	// true true
}
