// Command respondlater answers a request at once and finishes the slow work
// afterwards, cooperatively, on a reactor.
//
// A tiny HTTP server on a loopback port takes jobs (count the primes below
// a number). Its handlers run on net/http's goroutines and hand each request
// to the reactor, which owns every job, so the jobs need no lock. A POST
// starts the job as a cooperate.Each task and is answered at once with the
// job's id; the task then counts in 10 ms slices between the reactor's other
// work, so status requests keep being answered while the jobs run. A GET
// with ?wait=1 waits for a job's end without holding the reactor: the
// handler's goroutine blocks on the job's Deferred.
//
// The program makes its requests to itself and exits.
//
//	go run ./examples/respondlater
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "respondlater:", err)
		os.Exit(1)
	}
}

// run starts the server and the reactor, makes the requests, writes what
// they returned to w, and shuts everything down.
func run(w io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r := reactor.New()
	s := &server{r: r, c: cooperate.New(r), jobs: map[int]*job{}}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// The client runs on a goroutine of the reactor's pool; the reactor
	// stops when it is done.
	var clientErr error
	r.CallWhenRunning(func() {
		d := reactor.DeferToGoroutine(r, func() (struct{}, error) {
			return struct{}{}, requests(w, "http://"+ln.Addr().String())
		})
		d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			clientErr = err
			_ = r.Stop()
			return struct{}{}, nil
		})
	})
	runErr := r.Run()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutErr := srv.Shutdown(ctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		shutErr = errors.Join(shutErr, err)
	}
	return errors.Join(clientErr, runErr, shutErr)
}

// requests is the client: it starts two jobs, asks how the first is doing,
// waits for both, and asks about a job that does not exist.
func requests(w io.Writer, base string) error {
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: time.Minute}

	do := func(method, path string) error {
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			return err
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Fprintf(w, "%-4s %-25s %d %-13s %8s  %s\n", method, path, resp.StatusCode,
			http.StatusText(resp.StatusCode), took.Round(100*time.Microsecond), strings.TrimSpace(string(body)))
		return nil
	}
	for _, step := range []struct{ method, path string }{
		{http.MethodPost, "/primes?below=1000000"},
		{http.MethodPost, "/primes?below=2000000"},
		{http.MethodGet, "/jobs/1"},
		{http.MethodGet, "/jobs/1?wait=1"},
		{http.MethodGet, "/jobs/2?wait=1"},
		{http.MethodGet, "/jobs/3"},
	} {
		if err := do(step.method, step.path); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nEach POST was answered before its job counted a single number; the jobs then ran")
	fmt.Fprintln(w, "in slices on the reactor, which answered the other requests between two slices.")
	return nil
}

// server holds the jobs. Its fields belong to the reactor goroutine: the
// handlers reach them only through reactor.BlockingCall.
type server struct {
	r      *reactor.Reactor
	c      *cooperate.Cooperator
	jobs   map[int]*job
	nextID int
}

var errNoJob = errors.New("no such job")

// job counts the primes below a number, one number per step.
type job struct {
	id, below       int
	checked, primes int
	task            *cooperate.Task
}

func (j *job) status() string {
	if j.checked == j.below {
		return fmt.Sprintf("job %d: done, %d primes below %d", j.id, j.primes, j.below)
	}
	if j.checked == 0 {
		return fmt.Sprintf("job %d: accepted, counting the primes below %d", j.id, j.below)
	}
	return fmt.Sprintf("job %d: running, %d of %d numbers checked", j.id, j.checked, j.below)
}

// start creates a job and starts its task; the first step runs in a later
// slice, after the reply has gone. Reactor goroutine.
func (s *server) start(below int) *job {
	s.nextID++
	j := &job{id: s.nextID, below: below}
	s.jobs[j.id] = j
	j.task = cooperate.Each(s.c, upTo(below), func(n int) error {
		if isPrime(n) {
			j.primes++
		}
		j.checked++
		return nil
	})
	return j
}

// finished returns a Deferred that fires with the job's final status.
// Reactor goroutine.
func (s *server) finished(id int) *deferred.Deferred[string] {
	j, ok := s.jobs[id]
	if !ok {
		return deferred.Fail[string](errNoJob)
	}
	return deferred.Then(j.task.Done(), func(struct{}) (string, error) { return j.status(), nil })
}

func (s *server) statusOf(id int) (string, error) {
	j, ok := s.jobs[id]
	if !ok {
		return "", errNoJob
	}
	return j.status(), nil
}

// ServeHTTP runs on net/http's goroutines and hands every request to the
// reactor goroutine.
func (s *server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	switch {
	case req.Method == http.MethodPost && req.URL.Path == "/primes":
		below, err := strconv.Atoi(req.URL.Query().Get("below"))
		if err != nil || below < 0 || below > 100_000_000 {
			http.Error(w, "below: want a number from 0 to 100000000", http.StatusBadRequest)
			return
		}
		status, err := reactor.BlockingCall(ctx, s.r, func() (string, error) {
			return s.start(below).status(), nil
		})
		reply(w, http.StatusAccepted, status, err)

	case req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/jobs/"):
		id, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/jobs/"))
		if err != nil {
			http.Error(w, "bad job id", http.StatusBadRequest)
			return
		}
		var status string
		if req.URL.Query().Get("wait") != "" {
			// Blocks this handler's goroutine, not the reactor.
			status, err = reactor.BlockingCallDeferred(ctx, s.r, func() *deferred.Deferred[string] {
				return s.finished(id)
			})
		} else {
			status, err = reactor.BlockingCall(ctx, s.r, func() (string, error) { return s.statusOf(id) })
		}
		reply(w, http.StatusOK, status, err)

	default:
		http.NotFound(w, req)
	}
}

func reply(w http.ResponseWriter, code int, body string, err error) {
	switch {
	case errors.Is(err, errNoJob):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		w.WriteHeader(code)
		fmt.Fprintln(w, body)
	}
}

// upTo yields 0, 1, ..., n-1.
func upTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// isPrime tests n by trial division: slow on purpose.
func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := 3; d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}
