// Command hashfiles hashes files with SHA-256 in worker processes, with
// scheduler/process: Twisted's ampoule, in Go.
//
// The hashing function is registered with process.Register, and main calls
// process.Main first, so that the workers (this executable started again)
// serve it. Each file becomes a call whose Deferred fires on the reactor;
// deferred.List gathers them, failures included. The CPU work happens in
// the workers, so the reactor stays free the whole time: the program prints
// its worst lag at the end.
//
// Without arguments it hashes a few sample files that it writes to a
// temporary directory (and a missing one, to show how an error crosses):
//
//	go run ./examples/hashfiles
//	go run ./examples/hashfiles FILE...
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// file names a file to hash: Name alone, or Name inside Dir.
type file struct {
	Dir, Name string
}

// digest is what a worker sends back.
type digest struct {
	Size int64
	Sum  string // hex
	PID  int    // the worker that hashed the file
}

// hashFile runs in a worker process. It is registered in a package-level
// variable, so that the worker registers it too.
var hashFile = process.Register("hashfiles.sha256", func(ctx context.Context, f file) (digest, error) {
	var (
		r   *os.File
		err error
	)
	if f.Dir != "" {
		r, err = os.OpenInRoot(f.Dir, f.Name)
	} else {
		r, err = os.Open(f.Name)
	}
	if err != nil {
		return digest{}, err
	}
	defer r.Close()
	h := sha256.New()
	// Copy in chunks, so that a cancelled call stops early.
	buf := make([]byte, 1<<20)
	var size int64
	for {
		if err := ctx.Err(); err != nil {
			return digest{}, err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		size += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return digest{}, err
		}
	}
	return digest{Size: size, Sum: hex.EncodeToString(h.Sum(nil)), PID: os.Getpid()}, nil
})

func main() {
	process.Main() // in a worker, this serves hashFile and never returns
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hashfiles:", err)
		os.Exit(1)
	}
}

// Sample files, written when no file is named.
const (
	samples    = 6
	sampleSize = 4 << 20
	missing    = "missing.bin"
)

// sampleName and sampleContent define the sample files: the content is
// pseudo-random, from a seed per file, so that every run hashes the same bytes.
func sampleName(i int) string { return fmt.Sprintf("sample-%d.bin", i+1) }

func sampleContent(i int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	b := make([]byte, sampleSize)
	for j := 0; j < len(b); j += 8 {
		v := rng.Uint64()
		for k := range 8 {
			b[j+k] = byte(v >> (8 * k))
		}
	}
	return b
}

func writeSamples() (dir string, files []file, err error) {
	dir, err = os.MkdirTemp("", "hashfiles-")
	if err != nil {
		return "", nil, err
	}
	for i := range samples {
		if err := os.WriteFile(filepath.Join(dir, sampleName(i)), sampleContent(i), 0o600); err != nil {
			return dir, nil, err
		}
		files = append(files, file{Dir: dir, Name: sampleName(i)})
	}
	return dir, append(files, file{Dir: dir, Name: missing}), nil
}

// run hashes the files at paths, or the samples if there are none, in a pool
// of worker processes driven by a reactor, and writes the digests to w.
func run(w io.Writer, paths []string) error {
	var files []file
	if len(paths) == 0 {
		dir, samples, err := writeSamples()
		if dir != "" {
			defer os.RemoveAll(dir)
		}
		if err != nil {
			return err
		}
		files = samples
	}
	for _, p := range paths {
		files = append(files, file{Name: p})
	}
	workers := min(4, runtime.NumCPU())

	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		// One file at a time per worker, as Python's multiprocessing does:
		// the pool starts more workers, up to the maximum, while files wait.
		pool, err := process.NewPool(r, process.WithMaxWorkers(workers), process.WithMaxInFlight(1))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		fmt.Fprintf(w, "hashing %d files in up to %d worker processes\n", len(files), workers)
		start := time.Now()
		ds := make([]*deferred.Deferred[digest], len(files))
		for i, f := range files {
			ds[i] = hashFile.Call(pool, f) // fires on the reactor
		}
		printed := deferred.Then(deferred.List(ds, deferred.ConsumeErrors()),
			func(outcomes []deferred.Outcome[digest]) (struct{}, error) {
				for i, o := range outcomes {
					var remote *process.RemoteError
					switch {
					case o.OK():
						fmt.Fprintf(w, "%s  %8d bytes  %s  (worker %d)\n", o.Value.Sum, o.Value.Size, files[i].Name, o.Value.PID)
					case errors.As(o.Err, &remote):
						fmt.Fprintf(w, "%-64s  %8s        %s  (failed in the worker: %v)\n", "-", "-", files[i].Name, remote)
					default:
						fmt.Fprintf(w, "%-64s  %8s        %s  (failed: %v)\n", "-", "-", files[i].Name, o.Err)
					}
				}
				fmt.Fprintf(w, "took %v; the reactor's worst lag meanwhile: %v\n",
					time.Since(start).Round(time.Millisecond), r.Stats().LagMax.Round(10*time.Microsecond))
				return struct{}{}, nil
			})
		// Close waits for the workers to exit: do it off the reactor.
		return deferred.ThenDeferred(printed, func(struct{}) *deferred.Deferred[struct{}] {
			return reactor.DeferToGoroutine(r, func() (struct{}, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return struct{}{}, pool.Close(ctx)
			})
		})
	})
}
