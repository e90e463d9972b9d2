package remote_test

import (
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// proxy stands on the network between clients and the broker, on
// loopback, and fails the way networks do: it cuts connections, or lets
// them hang open with nothing going through, in one direction or both.
// The broker and the clients are real; only the path between them is the
// test's.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[*pconn]bool
	refuse bool // close new connections at once
	closed bool
}

// pconn is one proxied connection.
type pconn struct {
	client, server net.Conn
	toBroker       atomic.Bool // frozen towards the broker
	toClient       atomic.Bool // frozen towards the client
	done           chan struct{}
	once           sync.Once
}

// newProxy starts a proxy to the broker of brokerURL and returns it with
// the URL that goes through it. It stops when the test ends.
func newProxy(t *testing.T, brokerURL string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(brokerURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: u.Host, conns: map[*pconn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		pc := &pconn{client: c, server: s, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			_ = s.Close()
			return
		}
		p.conns[pc] = true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pc, c, s, &pc.toBroker)
		go p.pipe(pc, s, c, &pc.toClient)
	}
}

// pipe copies from src to dst until either end closes, or holds what it
// reads once frozen, until the connection is cut.
func (p *proxy) pipe(pc *pconn, src, dst net.Conn, frozen *atomic.Bool) {
	defer p.wg.Done()
	defer p.end(pc)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if frozen.Load() {
				<-pc.done
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// end closes both sides of pc, once.
func (p *proxy) end(pc *pconn) {
	pc.once.Do(func() {
		close(pc.done)
		_ = pc.client.Close()
		_ = pc.server.Close()
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
	})
}

func (p *proxy) current() []*pconn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*pconn, 0, len(p.conns))
	for pc := range p.conns {
		out = append(out, pc)
	}
	return out
}

// cut closes every connection open now, both ways, as a network failure
// does: what was in flight is lost.
func (p *proxy) cut() {
	for _, pc := range p.current() {
		p.end(pc)
	}
}

// freeze stops what the connections open now carry towards the broker
// and/or towards the clients, leaving them open: a network that went
// silent. New connections are not frozen.
func (p *proxy) freeze(toBroker, toClient bool) {
	for _, pc := range p.current() {
		if toBroker {
			pc.toBroker.Store(true)
		}
		if toClient {
			pc.toClient.Store(true)
		}
	}
}

// setRefuse makes the proxy close new connections at once (a broker that
// is down), or take them again.
func (p *proxy) setRefuse(refuse bool) {
	p.mu.Lock()
	p.refuse = refuse
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}
