package protocoltest_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// clientFactory records what a connector tells it.
type clientFactory struct {
	events []string
	built  []*protocoltest.AccumulatingProtocol
	refuse bool
	onLost func(c protocol.Connector)
}

func (f *clientFactory) BuildProtocol(addr net.Addr) protocol.Protocol {
	f.events = append(f.events, "build:"+addr.String())
	if f.refuse {
		return nil
	}
	p := &protocoltest.AccumulatingProtocol{}
	f.built = append(f.built, p)
	return p
}

func (f *clientFactory) StartedConnecting(protocol.Connector) {
	f.events = append(f.events, "started")
}

func (f *clientFactory) ClientConnectionFailed(_ protocol.Connector, reason error) {
	f.events = append(f.events, "failed:"+reason.Error())
}

func (f *clientFactory) ClientConnectionLost(c protocol.Connector, reason error) {
	f.events = append(f.events, "lost:"+reason.Error())
	if f.onLost != nil {
		f.onLost(c)
	}
}

func (f *clientFactory) StartFactory() { f.events = append(f.events, "start") }
func (f *clientFactory) StopFactory()  { f.events = append(f.events, "stop") }

var dest = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7}

func TestConnectorDrivesItsFactory(t *testing.T) {
	f := &clientFactory{}
	c := protocoltest.NewConnector(f, dest)
	assert.Equal(t, dest, c.Destination())
	c.Connect()
	assert.True(t, c.Connecting())
	assert.Panics(t, c.Connect)
	refused := errors.New("refused")
	c.Fail(refused)
	c.Connect()
	tr := c.Succeed()
	assert.True(t, c.Connected())
	assert.Equal(t, dest, tr.RemoteAddr())
	assert.True(t, f.built[0].Made)
	c.StopConnecting() // connected: nothing to stop
	c.Disconnect()
	assert.True(t, tr.Disconnecting())
	tr.Disconnect(nil)
	assert.Equal(t, []string{
		"start", "started", "failed:refused", "stop",
		"start", "started", "build:127.0.0.1:7",
		"lost:" + protocol.ErrConnectionDone.Error(), "stop",
	}, f.events)
	assert.Equal(t, 2, c.Attempts())
	assert.False(t, c.Connected())
}

// A factory that connects again from ClientConnectionLost is not stopped.
func TestConnectorKeepsAFactoryThatReconnects(t *testing.T) {
	f := &clientFactory{onLost: func(c protocol.Connector) { c.Connect() }}
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	c.Succeed().Disconnect(protocol.ErrConnectionLost)
	assert.True(t, c.Connecting())
	assert.Equal(t, []string{"start", "started", "build:127.0.0.1:7", "lost:" + protocol.ErrConnectionLost.Error(), "started"}, f.events)
}

func TestConnectorStopConnecting(t *testing.T) {
	f := &clientFactory{}
	c := protocoltest.NewConnector(f, dest)
	c.StopConnecting() // no attempt: nothing
	c.Disconnect()
	c.Connect()
	c.Disconnect()
	assert.False(t, c.Connecting())
	assert.Len(t, f.events, 4)
	assert.Contains(t, f.events[2], protocol.ErrUserCancelled.Error())
	assert.PanicsWithValue(t, "protocoltest: Connector.Succeed: no attempt in progress", func() { c.Succeed() })
}

func TestConnectorRefusedAndPaired(t *testing.T) {
	f := &clientFactory{refuse: true}
	c := protocoltest.NewConnector(f, dest)
	c.Connect()
	assert.Nil(t, c.Succeed())
	assert.Equal(t, "lost:"+protocol.ErrConnectionDone.Error(), f.events[len(f.events)-2])

	f.refuse = false
	c.Connect()
	server := &echo{}
	pump := c.SucceedWith(server)
	_, _ = f.built[0].Transport.Write([]byte("ping"))
	pump.Flush()
	assert.Equal(t, "ping", string(f.built[0].Data))
	server.Transport.AbortConnection()
	pump.Flush()
	assert.Contains(t, f.events[len(f.events)-2], syscall.ECONNRESET.Error())
	assert.Equal(t, "stop", f.events[len(f.events)-1])
}

func TestEndpointAttempts(t *testing.T) {
	e := protocoltest.NewEndpoint()
	f := &clientFactory{}
	d0 := e.Connect(f)
	d1 := e.Connect(f)
	d2 := e.Connect(f)
	assert.Len(t, e.Attempts(), 3)
	assert.True(t, e.Attempt(0).Pending())
	assert.Same(t, protocol.Factory(f), e.Attempt(0).Factory())

	tr := e.Attempt(0).Succeed()
	p, err := d0.Result()
	assert.NoError(t, err)
	assert.Same(t, protocol.Protocol(f.built[0]), p)
	assert.Same(t, p, e.Attempt(0).Protocol())
	assert.Same(t, tr, e.Attempt(0).Transport())
	assert.Equal(t, "127.0.0.1:8080", tr.RemoteAddr().String())

	boom := errors.New("boom")
	e.Attempt(1).Fail(boom)
	_, err = d1.Result()
	assert.Same(t, boom, err)

	d2.Cancel()
	_, err = d2.Result()
	assert.ErrorIs(t, err, protocol.ErrConnect)
	assert.ErrorIs(t, err, protocol.ErrUserCancelled)
	assert.False(t, e.Attempt(2).Pending())
	assert.PanicsWithValue(t, "protocoltest: Attempt.Succeed: the attempt has been settled already", func() { e.Attempt(2).Succeed() })
	assert.Panics(t, func() { e.Attempt(3) })
}

func TestEndpointImmediateAndPaired(t *testing.T) {
	e := protocoltest.NewEndpoint(protocoltest.WithImmediateSuccess())
	f := &clientFactory{}
	p, err := e.Connect(f).Result()
	assert.NoError(t, err)
	assert.True(t, p.(*protocoltest.AccumulatingProtocol).Made)

	e = protocoltest.NewEndpoint()
	d := e.Connect(f)
	server := &echo{}
	pump := e.Attempt(0).SucceedWith(server)
	assert.Same(t, pump, e.Attempt(0).Pump())
	p, _ = d.Result()
	_, _ = p.(*protocoltest.AccumulatingProtocol).Transport.Write([]byte("x"))
	pump.Flush()
	assert.Equal(t, "x", string(p.(*protocoltest.AccumulatingProtocol).Data))

	f.refuse = true
	d = e.Connect(f)
	e.Attempt(1).Succeed()
	_, err = d.Result()
	assert.ErrorIs(t, err, protocol.ErrConnect)
	var _ *deferred.Deferred[protocol.Protocol] = d
}
