package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// The net suite: the reactor's network engine (reactor/protocol) against
// plain Go and Twisted, as the networking issue asks to show. Every echo
// figure comes from the same load client, this executable started again
// (see netChild), driving a server in this process (twine's, or plain Go's
// goroutine per connection) or in Twisted's (bench/twisted/net_bench.py).
const (
	echoConns   = 50 // connections, each with one message in flight
	echoMessage = 64 // bytes per message
	idleConns   = 10000
	bulkBytes   = 1 << 30
)

func netSuite() suite {
	twisted := &script{
		comparison: "twisted",
		file:       "twisted/net_bench.py",
		args: func(cfg *config) []string {
			exe, _ := os.Executable()
			return []string{"--client", exe, "--duration", formatSeconds(echoDuration(cfg)), "--conns", strconv.Itoa(echoConns)}
		},
	}
	echoMetrics := func(twisted bool) []metric {
		tw := func(name string) string {
			if !twisted {
				return ""
			}
			return "echo_" + name
		}
		return []metric{
			{key: "time", label: "time", kind: kindTime, per: "msg", other: tw("msg")},
			{key: "p99", label: "p99 latency", kind: kindTime, other: tw("p99")},
			{key: "p50", label: "p50 latency", kind: kindTime, other: tw("p50")},
		}
	}
	return suite{
		name: "net",
		doc:  "Networking on the reactor: echo, bulk transfer and idle connections over loopback TCP",
		scenarios: []scenario{
			{
				name:         "echo",
				doc:          "echo server, 50 connections each with one 64-byte message in flight, from a load client in another process; per message (1e9/time = messages per second)",
				metrics:      echoMetrics(true),
				twine:        echoRun(twineEcho(nil), "echo"),
				baseline:     echoRun(goEcho, "echo"),
				baselineName: "goroutine per connection",
				other:        twisted.round("echo"),
			},
			{
				name:         "echo_tls",
				doc:          "the same echo over TLS (ListenTLS; crypto/tls with a goroutine per connection), handshakes before the load",
				metrics:      echoMetrics(false),
				twine:        echoRun(twineEchoTLS, "echotls"),
				baseline:     echoRun(goEchoTLS, "echotls"),
				baselineName: "crypto/tls, goroutine per connection",
			},
			{
				name:    "echo_cooperating",
				doc:     "the same echo while 4 cooperative tasks of 20 µs steps run on the reactor (cooperate.Each, 10 ms slices)",
				metrics: echoMetrics(false),
				twine:   echoRun(twineEcho(startTasks), "echo"),
			},
			{
				name: "bulk",
				doc:  "1 GiB (128 MiB with -quick) over one connection, written by a streaming producer, read by a protocol that counts; per GiB",
				metrics: []metric{
					timeMetric("GiB", ""),
					{key: "heap", label: "peak heap growth", kind: kindBytes},
				},
				twine:        roundsOf(bulkTwine),
				baseline:     roundsOf(bulkGo),
				baselineName: "io.Copy",
			},
			{
				name: "idle",
				doc:  "10,000 connections (1,000 with -quick) accepted from another process, then held open and idle",
				metrics: []metric{
					timeMetric("conn", ""),
					{key: "mem", label: "memory", kind: kindBytes, per: "conn"},
					{key: "cpu", label: "idle CPU", kind: kindPercent},
				},
				twine: roundsOf(idleTwine),
			},
		},
	}
}

// echoDuration is how long the load client runs in one round.
func echoDuration(cfg *config) time.Duration {
	if cfg.quick {
		return 150 * time.Millisecond
	}
	return time.Second
}

// An echoServer starts an echo server on a loopback port, and returns its
// address and a function that stops it.
type echoServer func() (addr string, stop func() error, err error)

// echoRun starts a server with start for the scenario's rounds, and runs
// the load client against it in each round, in mode ("echo", or "echotls"
// for TLS).
func echoRun(start echoServer, mode string) starter {
	return func(cfg *config) (*side, error) {
		addr, stop, err := start()
		if err != nil {
			return nil, err
		}
		round := func() (sample, error) {
			out, err := runNetChild(mode, addr, strconv.Itoa(echoConns), echoDuration(cfg).String())
			if err != nil {
				return sample{}, err
			}
			return sample{values: out, allocs: -1, bytes: -1}, nil
		}
		return &side{round: round, close: stop}, nil
	}
}

// echoProtocol writes back what it reads, on the reactor goroutine.
type echoProtocol struct{ protocol.Base }

func (e *echoProtocol) DataReceived(data []byte) { _, _ = e.Transport.Write(data) }

// twineEcho serves the echo on a new reactor; extra, if not nil, starts
// other work on it, and returns what stops that work.
func twineEcho(extra func(r *reactor.Reactor) func()) echoServer {
	return func() (string, func() error, error) {
		r := startReactor()
		var port *protocol.Port
		var stopExtra func()
		var err error
		r.call(func() {
			port, err = protocol.ListenTCP(r.Reactor, "127.0.0.1:0",
				protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &echoProtocol{} }),
				protocol.WithBacklog(1024), protocol.WithLogger(quietLogger))
			if err == nil && extra != nil {
				stopExtra = extra(r.Reactor)
			}
		})
		if err != nil {
			_ = r.stop()
			return "", nil, err
		}
		return port.Addr().String(), func() error {
			if stopExtra != nil {
				r.call(stopExtra)
			}
			return r.stop()
		}, nil
	}
}

// startTasks starts the lag suite's four endless cooperative tasks on r.
func startTasks(r *reactor.Reactor) func() {
	rounds := stepRounds()
	c := cooperate.New(r, cooperate.WithLogger(quietLogger))
	for range lagTasks {
		cooperate.Each(c, endless, func(int) error { busy(rounds); return nil })
	}
	return c.Stop
}

// goEcho is the plain Go baseline: a goroutine per connection that reads
// and writes back.
func goEcho() (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	return serveGoEcho(ln)
}

// serveGoEcho serves the echo on ln with a goroutine per connection.
func serveGoEcho(ln net.Listener) (string, func() error, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String(), func() error {
		err := ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
		return err
	}, nil
}

// bulkSize is the bytes a bulk run moves.
func bulkSize(cfg *config) int {
	if cfg.quick {
		return 128 << 20
	}
	return bulkBytes
}

// heapWatch samples the live heap every millisecond until stopped, and
// reports its peak growth over the heap at the start.
type heapWatch struct {
	stop chan struct{}
	done chan float64
}

func watchHeap() *heapWatch {
	runtime.GC()
	w := &heapWatch{stop: make(chan struct{}), done: make(chan float64, 1)}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	go func() {
		peak := base
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.done <- float64(peak - base)
				return
			case <-t.C:
				metrics.Read(s)
				peak = max(peak, s[0].Value.Uint64())
			}
		}
	}()
	return w
}

func (w *heapWatch) end() float64 {
	close(w.stop)
	return <-w.done
}

// bulkSink counts what it reads and says when the connection has ended.
type bulkSink struct {
	protocol.Base
	n    int
	done chan int
}

func (s *bulkSink) DataReceived(data []byte) { s.n += len(data) }
func (s *bulkSink) ConnectionLost(error)     { s.done <- s.n }

// bulkSource writes chunks through its transport as a streaming producer
// until left runs out, then unregisters and closes.
type bulkSource struct {
	protocol.Base
	protocol.ClientFactoryBase
	chunk  []byte
	left   int
	paused bool
	failed chan error
}

func (s *bulkSource) BuildProtocol(net.Addr) protocol.Protocol { return s }
func (s *bulkSource) ClientConnectionFailed(_ protocol.Connector, err error) {
	s.failed <- err
}
func (s *bulkSource) ConnectionMade(t protocol.Transport) {
	s.Base.ConnectionMade(t)
	t.RegisterProducer(s, true)
	s.produce()
}
func (s *bulkSource) PauseProducing()  { s.paused = true }
func (s *bulkSource) ResumeProducing() { s.paused = false; s.produce() }
func (s *bulkSource) StopProducing()   {}
func (s *bulkSource) produce() {
	for !s.paused {
		if s.left <= 0 {
			s.Transport.UnregisterProducer()
			s.Transport.LoseConnection()
			return
		}
		n := min(s.left, len(s.chunk))
		_, _ = s.Transport.Write(s.chunk[:n])
		s.left -= n
	}
}

func bulkTwine(cfg *config) (sample, error) {
	size := bulkSize(cfg)
	r := startReactor()
	defer func() { _ = r.stop() }()
	sink := &bulkSink{done: make(chan int, 1)}
	src := &bulkSource{chunk: bytes.Repeat([]byte("x"), 64<<10), left: size, failed: make(chan error, 1)}
	var err error
	var watch *heapWatch
	var start time.Time
	r.call(func() {
		var port *protocol.Port
		port, err = protocol.ListenTCP(r.Reactor, "127.0.0.1:0", protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return sink }), protocol.WithLogger(quietLogger))
		if err != nil {
			return
		}
		watch = watchHeap()
		start = time.Now()
		protocol.ConnectTCP(r.Reactor, port.Addr().String(), src, protocol.WithLogger(quietLogger))
	})
	if err != nil {
		return sample{}, err
	}
	select {
	case n := <-sink.done:
		elapsed := time.Since(start)
		heap := watch.end()
		if n != size {
			return sample{}, fmt.Errorf("bulk: %d bytes arrived, want %d", n, size)
		}
		return sample{values: map[string]float64{"time": float64(elapsed) * bulkBytes / float64(size), "heap": heap}, allocs: -1, bytes: -1}, nil
	case err := <-src.failed:
		watch.end()
		return sample{}, err
	}
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func bulkGo(cfg *config) (sample, error) {
	size := bulkSize(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sample{}, err
	}
	defer ln.Close()
	watch := watchHeap()
	start := time.Now()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c)
		_ = c.Close()
		got <- n
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		watch.end()
		return sample{}, err
	}
	_, err = io.Copy(c, io.LimitReader(zeros{}, int64(size)))
	_ = c.Close()
	n := <-got
	elapsed := time.Since(start)
	heap := watch.end()
	if err != nil {
		return sample{}, err
	}
	if n != int64(size) {
		return sample{}, fmt.Errorf("bulk: %d bytes arrived, want %d", n, size)
	}
	return sample{values: map[string]float64{"time": float64(elapsed) * bulkBytes / float64(size), "heap": heap}, allocs: -1, bytes: -1}, nil
}

// idleTwine has another process open many connections to a twine port,
// then measures the memory they hold and the processor time the reactor
// spends while they are idle.
func idleTwine(cfg *config) (sample, error) {
	n, hold := idleConns, time.Second
	if cfg.quick {
		n, hold = 1000, 200*time.Millisecond
	}
	r := startReactor()
	defer func() { _ = r.stop() }()
	var accepted atomic.Int64
	all := make(chan struct{})
	var port *protocol.Port
	var err error
	r.call(func() {
		port, err = protocol.ListenTCP(r.Reactor, "127.0.0.1:0", protocol.FactoryFunc(func(net.Addr) protocol.Protocol {
			if accepted.Add(1) == int64(n) {
				close(all)
			}
			return &protocol.Base{}
		}), protocol.WithBacklog(4096), protocol.WithLogger(quietLogger))
	})
	if err != nil {
		return sample{}, err
	}
	before := memInUse()
	child, err := startNetChild("idle", port.Addr().String(), strconv.Itoa(n))
	if err != nil {
		return sample{}, err
	}
	defer child.close()
	start := time.Now()
	select {
	case <-all:
	case <-time.After(time.Minute):
		return sample{}, fmt.Errorf("idle: %d of %d connections accepted in a minute", accepted.Load(), n)
	}
	setup := time.Since(start)
	if err := child.waitLine("ready"); err != nil {
		return sample{}, err
	}
	mem := memInUse() - before
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(hold) // the measure: the process at rest with n connections open
	cpu := float64(cpuTime()-cpu0) / float64(time.Since(t0)) * 100
	return sample{values: map[string]float64{
		"time": float64(setup) / float64(n),
		"mem":  mem / float64(n),
		"cpu":  cpu,
	}, allocs: -1, bytes: -1}, nil
}

// memInUse is the memory the Go runtime holds for the heap and the stacks,
// after a collection.
func memInUse() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse + ms.StackInuse)
}

// envNetChild makes this executable, started again, the net suite's load
// client instead of the command; envNetArgs holds its arguments.
const (
	envNetChild = "TWINE_BENCH_NET_CHILD"
	envNetArgs  = "TWINE_BENCH_NET_ARGS"
)

// netChildProc is a running load client.
type netChildProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startNetChild(mode string, args ...string) (*netChildProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envNetChild+"="+mode, envNetArgs+"="+strings.Join(args, " "))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &netChildProc{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}, nil
}

// waitLine reads the child's output up to a line that is want.
func (c *netChildProc) waitLine(want string) error {
	for c.out.Scan() {
		if c.out.Text() == want {
			return nil
		}
	}
	return fmt.Errorf("net child: ended before %q", want)
}

// close ends the child and waits for it.
func (c *netChildProc) close() error {
	_ = c.stdin.Close()
	for c.out.Scan() {
	}
	return c.cmd.Wait()
}

// runNetChild runs a load client to its end and returns the figures it
// printed, "name value" lines.
func runNetChild(mode string, args ...string) (map[string]float64, error) {
	c, err := startNetChild(mode, args...)
	if err != nil {
		return nil, err
	}
	vals := map[string]float64{}
	for c.out.Scan() {
		name, v, ok := strings.Cut(c.out.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err == nil {
			vals[name] = f
		}
	}
	_ = c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("net child: %w", err)
	}
	if _, ok := vals["time"]; !ok {
		return nil, errors.New("net child: no figures")
	}
	return vals, nil
}

// netChild is the load client, in its own process: "echo ADDR CONNS
// DURATION" keeps one message in flight on each connection for DURATION
// and prints the time per message and the latency percentiles ("echotls"
// does the same over TLS, handshakes first); "idle ADDR
// N" opens N connections, prints "ready", and holds them until its input
// ends. It returns the exit status.
func netChild(mode string) int {
	args := strings.Fields(os.Getenv(envNetArgs))
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "net child:", err)
		return 1
	}
	switch {
	case (mode == "echo" || mode == "echotls") && len(args) == 3:
		conns, err := strconv.Atoi(args[1])
		if err != nil {
			return fail(err)
		}
		d, err := time.ParseDuration(args[2])
		if err != nil {
			return fail(err)
		}
		dial := func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }
		if mode == "echotls" {
			dial = dialTLS
		}
		perMsg, p50, p99, err := echoLoad(args[0], conns, d, dial)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("time %.0f\np50 %.0f\np99 %.0f\n", float64(perMsg), float64(p50), float64(p99))
		return 0
	case mode == "idle" && len(args) == 2:
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return fail(err)
		}
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for range n {
			c, err := net.Dial("tcp", args[0])
			if err != nil {
				return fail(err)
			}
			conns = append(conns, c)
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	}
	return fail(fmt.Errorf("bad mode %q or arguments %q", mode, args))
}

// echoLoad keeps one message in flight on each of conns connections to
// addr for d, and returns the time per message over all of them and the
// latencies' percentiles.
func echoLoad(addr string, conns int, d time.Duration, dial func(string) (net.Conn, error)) (perMsg, p50, p99 time.Duration, err error) {
	cs := make([]net.Conn, conns)
	for i := range cs {
		if cs[i], err = dial(addr); err != nil {
			return 0, 0, 0, err
		}
		defer cs[i].Close()
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	lats := make([][]time.Duration, conns)
	errs := make([]error, conns)
	startAll := make(chan struct{})
	for i, c := range cs {
		wg.Go(func() {
			msg := bytes.Repeat([]byte{'e'}, echoMessage)
			in := make([]byte, echoMessage)
			<-startAll
			for !stop.Load() {
				t := time.Now()
				if _, err := c.Write(msg); err != nil {
					errs[i] = err
					return
				}
				if _, err := io.ReadFull(c, in); err != nil {
					errs[i] = err
					return
				}
				lats[i] = append(lats[i], time.Since(t))
			}
		})
	}
	t0 := time.Now()
	close(startAll)
	time.Sleep(d) // the load runs for d
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, 0, err
	}
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return 0, 0, 0, errors.New("no message came back")
	}
	slices.Sort(all)
	return elapsed / time.Duration(len(all)), percentile(all, 50), percentile(all, 99), nil
}
