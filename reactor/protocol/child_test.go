package protocol_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// childMark, as the first argument, makes this test binary a child process
// for the tests of SpawnProcess: the second argument names what it does.
const childMark = "-twine-protocol-child"

// runChild is the child process's program; it returns the exit code.
func runChild(mode string, args []string) int {
	in, out, errOut := os.Stdin, os.Stdout, os.Stderr
	switch mode {
	case "echo":
		// Copy standard input to standard output until end of file.
		if _, err := io.Copy(out, in); err != nil {
			return 1
		}
		return 0
	case "exit":
		code, _ := strconv.Atoi(args[0])
		return code
	case "tester":
		// Twisted's process_tester: read 4 bytes, write them to standard
		// output and close it; read 4 more, write them to standard error
		// and close it; read 4 more, exit 23.
		b := make([]byte, 4)
		if _, err := io.ReadFull(in, b); err != nil {
			return 1
		}
		out.Write(b)
		out.Close()
		if _, err := io.ReadFull(in, b); err != nil {
			return 2
		}
		errOut.Write(b)
		errOut.Close()
		if _, err := io.ReadFull(in, b); err != nil {
			return 3
		}
		return 23
	case "ready":
		// Say so, then wait for the end of standard input.
		out.WriteString("ready\n")
		io.Copy(io.Discard, in)
		return 0
	case "waitterm":
		// Say so, then run until SIGTERM, whatever becomes of the pipes.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		signal.Ignore(syscall.SIGPIPE)
		out.WriteString("ready\n")
		<-ch
		return 7
	case "burst":
		// Write n bytes to standard output, then exit at once.
		n, _ := strconv.Atoi(args[0])
		if _, err := out.Write(pattern(n)); err != nil {
			return 1
		}
		return 0
	case "closeout":
		// Close standard output, then run on until standard input ends.
		out.Close()
		io.Copy(io.Discard, in)
		errOut.WriteString("bye")
		return 0
	case "writeloop":
		// Twisted's ClosingPipesTests: wait for a line, then write to the
		// descriptor given, which the parent has closed: the write kills
		// the child with SIGPIPE before it can exit with 42.
		fd, _ := strconv.Atoi(args[0])
		bufio.NewReader(in).ReadString('\n')
		f := os.NewFile(uintptr(fd), "target")
		for range 1000 {
			f.Write([]byte("foo\n"))
		}
		return 42
	case "grandchild":
		// Start a grandchild that shares the pipes and lives until
		// standard input ends, then exit.
		exe, _ := os.Executable()
		p, err := os.StartProcess(exe, []string{exe, childMark, "ready"}, &os.ProcAttr{Files: []*os.File{in, out, errOut}})
		if err != nil {
			return 1
		}
		p.Release()
		return 0
	case "linger":
		// Twisted's process_linger: write, close standard output and
		// error, and exit only once descriptor 3 ends.
		out.WriteString("here is some text\ngoodbye\n")
		out.Close()
		errOut.Close()
		io.Copy(io.Discard, os.NewFile(3, "fd3"))
		return 0
	case "fds":
		// Twisted's process_fds, for WithChildFDs.
		b := make([]byte, 4)
		if _, err := io.ReadFull(in, b); err != nil || string(b) != "abcd" {
			return 1
		}
		out.WriteString("righto")
		if _, err := io.ReadFull(os.NewFile(3, "fd3"), b); err != nil || string(b) != "efgh" {
			return 2
		}
		os.NewFile(4, "fd4").Close()
		if n, err := os.NewFile(5, "fd5").Read(b); n != 0 || err != io.EOF {
			return 3
		}
		out.WriteString("closed")
		return 0
	case "argv":
		// Write the arguments, each followed by a NUL.
		for _, a := range os.Args {
			fmt.Fprintf(out, "%s\x00", a)
		}
		return 0
	}
	fmt.Fprintf(errOut, "unknown child mode %q\n", mode)
	return 99
}

// pattern returns n bytes that tell their offsets apart.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}
