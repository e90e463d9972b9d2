package protocol_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// The tests in this file re-express the ClientServiceTests of Twisted's
// twisted/application/test/test_internet.py.

// atLeastOneAttempt is longer than any delay of the default policy's
// first retries.
const atLeastOneAttempt = 100 * time.Second

// rememberingFactory builds protocols with newProto and remembers them:
// the application's protocols, as the service hands them out.
type rememberingFactory struct {
	newProto func() protocol.Protocol
	built    []protocol.Protocol
	started  int
}

func (f *rememberingFactory) BuildProtocol(net.Addr) protocol.Protocol {
	p := f.newProto()
	f.built = append(f.built, p)
	return p
}

func (f *rememberingFactory) StartFactory() { f.started++ }
func (f *rememberingFactory) StopFactory()  { f.started-- }

type reconnector struct {
	clock    *scheduler.ManualClock
	endpoint *protocoltest.Endpoint
	factory  *rememberingFactory
	service  *protocol.ClientService
}

type reconnectorOpts struct {
	fireImmediately bool
	noStart         bool
	newProto        func() protocol.Protocol
	opts            []protocol.ClientServiceOption
}

// makeReconnector is Twisted's makeReconnector: a service over a test
// endpoint, started unless asked not to, stopped at the end of the test,
// which then checks that no call is left on the clock.
func makeReconnector(t *testing.T, o reconnectorOpts) *reconnector {
	r := &reconnector{clock: scheduler.NewManualClock()}
	var eopts []protocoltest.EndpointOption
	if o.fireImmediately {
		eopts = append(eopts, protocoltest.WithImmediateSuccess())
	}
	r.endpoint = protocoltest.NewEndpoint(eopts...)
	if o.newProto == nil {
		o.newProto = func() protocol.Protocol { return &protocoltest.AccumulatingProtocol{} }
	}
	r.factory = &rememberingFactory{newProto: o.newProto}
	opts := append([]protocol.ClientServiceOption{protocol.WithServiceLogger(quiet)}, o.opts...)
	r.service = protocol.NewClientService(r.endpoint, r.factory, r.clock, opts...)
	t.Cleanup(func() {
		if r.service.Running() {
			r.service.StopService()
		}
		assert.Empty(t, r.clock.Pending(), "calls left on the clock after StopService")
	})
	if !o.noStart {
		r.service.StartService()
	}
	return r
}

func (r *reconnector) attempts() int { return len(r.endpoint.Attempts()) }

// transport is the i-th connected attempt's transport.
func (r *reconnector) transport(i int) *protocoltest.StringTransport {
	return r.endpoint.Attempt(i).Transport()
}

func succeeded[T any](t *testing.T, d *deferred.Deferred[T]) T {
	t.Helper()
	v, err := d.Result()
	require.NoError(t, err)
	return v
}

func failed[T any](t *testing.T, d *deferred.Deferred[T]) error {
	t.Helper()
	_, err := d.Result()
	require.Error(t, err)
	require.NotErrorIs(t, err, deferred.ErrNotFired)
	return err
}

func noResult[T any](t *testing.T, d *deferred.Deferred[T]) {
	t.Helper()
	_, err := d.Result()
	require.ErrorIs(t, err, deferred.ErrNotFired)
}

func TestClientServiceStartService(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	assert.Equal(t, 1, r.attempts())
}

// The factory the endpoint gets passes StartFactory and StopFactory on.
func TestClientServiceStartStopFactory(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{fireImmediately: true})
	passed := r.endpoint.Attempt(0).Factory().(protocol.FactoryHooks)
	assert.Zero(t, r.factory.started)
	passed.StartFactory()
	assert.Equal(t, 1, r.factory.started)
	passed.StopFactory()
	assert.Zero(t, r.factory.started)
}

func TestClientServiceStopServiceWhileConnected(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{fireImmediately: true})
	d := r.service.StopService()
	noResult(t, d)
	assert.True(t, r.transport(0).Disconnecting())
	r.transport(0).Disconnect(errors.New("gone"))
	succeeded(t, d)
}

func TestClientServiceStartServiceWaitsForDisconnect(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{fireImmediately: true})
	d := r.service.StopService()
	noResult(t, d)
	assert.True(t, r.transport(0).Disconnecting())
	r.service.StartService()
	noResult(t, d)
	assert.Equal(t, 1, r.attempts())
	r.transport(0).Disconnect(errors.New("gone"))
	assert.Equal(t, 2, r.attempts())
	succeeded(t, d)
}

func TestClientServiceStartServiceWhileStopping(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Succeed()
	stopped := r.service.StopService()
	noResult(t, stopped)
	next := r.service.WhenConnected(0)
	noResult(t, next)
	r.service.StartService()
	noResult(t, next)
	noResult(t, stopped)
	assert.True(t, r.transport(0).Disconnecting())
	r.transport(0).Disconnect(errors.New("gone"))
	succeeded(t, stopped)
	r.endpoint.Attempt(1).Succeed()
	assert.Len(t, r.factory.built, 2)
	assert.Same(t, r.factory.built[1], succeeded(t, next))
	noResult(t, r.service.StopService())
}

func TestClientServiceStartServiceWhileStopped(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	succeeded(t, r.service.StopService())
	assert.ErrorIs(t, failed(t, r.service.WhenConnected(0)), deferred.ErrCancelled)
	r.service.StartService()
	r.endpoint.Attempt(r.attempts() - 1).Succeed()
	assert.Same(t, r.factory.built[len(r.factory.built)-1], succeeded(t, r.service.WhenConnected(0)))
}

type fancyProtocol struct {
	protocoltest.AccumulatingProtocol
}

func (*fancyProtocol) ReadConnectionLost()  {}
func (*fancyProtocol) WriteConnectionLost() {}

// The protocol the endpoint connects is a HalfCloseable when the
// application's protocol is one.
func TestClientServiceInterfacesForTransport(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{fireImmediately: true, newProto: func() protocol.Protocol { return &fancyProtocol{} }})
	_, ok := r.endpoint.Attempt(0).Protocol().(protocol.HalfCloseable)
	assert.True(t, ok)

	plain := makeReconnector(t, reconnectorOpts{fireImmediately: true})
	_, ok = plain.endpoint.Attempt(0).Protocol().(protocol.HalfCloseable)
	assert.False(t, ok)
}

func TestClientServiceStopServiceWhileRetrying(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Fail(errors.New("refused"))
	r.clock.Advance(atLeastOneAttempt)
	assert.Equal(t, 2, r.attempts())
	d := r.service.StopService()
	assert.False(t, r.endpoint.Attempt(1).Pending(), "the attempt was cancelled")
	succeeded(t, d)
}

func TestClientServiceStopServiceWhileConnecting(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	assert.Equal(t, 1, r.attempts())
	assert.True(t, r.endpoint.Attempt(0).Pending())
	succeeded(t, r.service.StopService())
}

func TestClientServiceClientConnected(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{fireImmediately: true})
	awaiting := r.service.WhenConnected(0)
	assert.Empty(t, r.clock.Pending())
	assert.Same(t, r.factory.built[0], succeeded(t, awaiting))
}

func TestClientServiceClientConnectionFailed(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Fail(errors.New("refused"))
	when := r.service.WhenConnected(0)
	noResult(t, when)
	r.clock.Advance(atLeastOneAttempt)
	assert.Equal(t, 2, r.attempts())
	// Stopping the service fails the waiter, as Twisted's test expects at
	// its tear-down; left to the cleanup, its error would go unhandled.
	r.service.StopService()
	assert.ErrorIs(t, failed(t, when), deferred.ErrCancelled)
}

func TestClientServiceClientConnectionLost(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Succeed()
	assert.Equal(t, 1, r.attempts())
	assert.Same(t, r.factory.built[0], succeeded(t, r.service.WhenConnected(0)))
	r.transport(0).Disconnect(errors.New("gone"))
	r.clock.Advance(atLeastOneAttempt)
	assert.Equal(t, 2, r.attempts())
	r.endpoint.Attempt(1).Succeed()
	assert.Same(t, r.factory.built[1], succeeded(t, r.service.WhenConnected(0)))
}

func TestClientServiceClientConnectionLostWhileStopping(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{fireImmediately: true})
	d := r.service.StopService()
	r.transport(0).Disconnect(errors.New("gone"))
	assert.ErrorIs(t, failed(t, r.service.WhenConnected(0)), deferred.ErrCancelled)
	assert.True(t, d.Called())
}

// logRecorder keeps the messages logged.
type logRecorder struct{ buf bytes.Buffer }

func (l *logRecorder) logger() *slog.Logger { return slog.New(slog.NewTextHandler(&l.buf, nil)) }

func TestClientServiceStartTwice(t *testing.T) {
	var logs logRecorder
	r := makeReconnector(t, reconnectorOpts{noStart: true, opts: []protocol.ClientServiceOption{protocol.WithServiceLogger(logs.logger())}})
	assert.Zero(t, r.attempts())
	r.service.StartService()
	assert.Equal(t, 1, r.attempts())
	r.service.StartService()
	assert.Equal(t, 1, r.attempts())
	assert.Contains(t, logs.buf.String(), "duplicate ClientService.StartService")
}

func TestClientServiceWhenConnectedLater(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	a := r.service.WhenConnected(0)
	b := r.service.WhenConnected(0)
	c := r.service.WhenConnected(1)
	noResult(t, a)
	noResult(t, b)
	noResult(t, c)
	r.endpoint.Attempt(0).Succeed()
	pa, pb, pc := succeeded(t, a), succeeded(t, b), succeeded(t, c)
	assert.Same(t, pa, pb)
	assert.Same(t, pa, pc)
	assert.Same(t, r.factory.built[0], pa)
}

func TestClientServiceWhenConnectedFails(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	a0 := r.service.WhenConnected(0)
	a1 := r.service.WhenConnected(1)
	a2 := r.service.WhenConnected(2)
	a3 := r.service.WhenConnected(3)

	f1 := errors.New("first")
	r.endpoint.Attempt(0).Fail(f1)
	noResult(t, a0)
	assert.Same(t, f1, failed(t, a1))
	noResult(t, a2)
	noResult(t, a3)

	r.clock.Advance(atLeastOneAttempt)
	assert.Equal(t, 2, r.attempts())
	f2 := errors.New("second")
	r.endpoint.Attempt(1).Fail(f2)
	noResult(t, a0)
	assert.Same(t, f2, failed(t, a2))
	noResult(t, a3)

	r.clock.Advance(atLeastOneAttempt)
	assert.Equal(t, 3, r.attempts())
	r.endpoint.Attempt(2).Succeed()
	p0, p3 := succeeded(t, a0), succeeded(t, a3)
	assert.Same(t, p0, p3)
	assert.Same(t, r.factory.built[0], p0)

	// Once connected, a new WhenConnected fires at once, failAfterFailures
	// or not.
	assert.Same(t, p0, succeeded(t, r.service.WhenConnected(1)))
}

func TestClientServiceWhenConnectedStopService(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	a := r.service.WhenConnected(0)
	b := r.service.WhenConnected(0)
	c := r.service.WhenConnected(1)
	r.service.StopService()
	r.clock.Advance(atLeastOneAttempt)
	for _, d := range []*deferred.Deferred[protocol.Protocol]{a, b, c} {
		assert.ErrorIs(t, failed(t, d), deferred.ErrCancelled)
	}
}

func TestClientServiceRetryCancelled(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Fail(errors.New("no connection"))
	d := r.service.StopService()
	assert.Empty(t, r.clock.Pending())
	succeeded(t, d)
}

func TestClientServiceStopServiceBeforeStartService(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{noStart: true})
	succeeded(t, r.service.StopService())
}

func TestClientServiceWhenConnectedErrbacksOnStopService(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	before := r.service.WhenConnected(0)
	r.endpoint.Attempt(0).Fail(errors.New("no connection"))
	r.service.StopService()
	after := r.service.WhenConnected(0)
	assert.ErrorIs(t, failed(t, before), deferred.ErrCancelled)
	assert.ErrorIs(t, failed(t, after), deferred.ErrCancelled)
}

func TestClientServiceStopServiceWhileDisconnecting(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Succeed()
	first := r.service.StopService()
	second := r.service.StopService()
	r.transport(0).Disconnect(errors.New("gone"))
	succeeded(t, first)
	succeeded(t, second)
}

func TestClientServiceStopServiceWhileRestarting(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	r.endpoint.Attempt(0).Succeed()
	first := r.service.StopService()
	r.service.StartService()
	second := r.service.StopService()
	r.transport(0).Disconnect(errors.New("gone"))
	succeeded(t, first)
	succeeded(t, second)
}

func TestClientServiceStopServiceOnStoppedService(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	first := r.service.StopService()
	second := r.service.StopService()
	succeeded(t, first)
	succeeded(t, second)
}

func withPrepare(f func(protocol.Protocol) *deferred.Deferred[struct{}]) []protocol.ClientServiceOption {
	return []protocol.ClientServiceOption{protocol.WithPrepareConnection(f)}
}

func TestClientServicePrepareConnection(t *testing.T) {
	t.Run("called when the service starts, with the protocol", func(t *testing.T) {
		var prepared []protocol.Protocol
		r := makeReconnector(t, reconnectorOpts{fireImmediately: true, opts: withPrepare(func(p protocol.Protocol) *deferred.Deferred[struct{}] {
			prepared = append(prepared, p)
			return nil
		})})
		require.Len(t, prepared, 1)
		assert.Same(t, r.factory.built[0], prepared[0])
	})
	t.Run("called only once a connection is made", func(t *testing.T) {
		prepares := 0
		r := makeReconnector(t, reconnectorOpts{opts: withPrepare(func(protocol.Protocol) *deferred.Deferred[struct{}] {
			prepares++
			return nil
		})})
		r.endpoint.Attempt(0).Fail(errors.New("connection attempt failed"))
		assert.Zero(t, prepares)
		r.clock.Advance(atLeastOneAttempt)
		r.endpoint.Attempt(1).Succeed()
		assert.Equal(t, 1, prepares)
	})
	t.Run("called on each reconnection", func(t *testing.T) {
		prepares := 0
		r := makeReconnector(t, reconnectorOpts{fireImmediately: true, opts: withPrepare(func(protocol.Protocol) *deferred.Deferred[struct{}] {
			prepares++
			return nil
		})})
		assert.Equal(t, 1, prepares)
		r.transport(0).Disconnect(errors.New("gone"))
		r.clock.Advance(atLeastOneAttempt)
		assert.Equal(t, 2, prepares)
	})
	t.Run("WhenConnected waits for its Deferred", func(t *testing.T) {
		ready := deferred.New[struct{}]()
		r := makeReconnector(t, reconnectorOpts{fireImmediately: true, opts: withPrepare(func(protocol.Protocol) *deferred.Deferred[struct{}] {
			return ready
		})})
		when := r.service.WhenConnected(0)
		noResult(t, when)
		ready.Callback(struct{}{})
		assert.Same(t, r.factory.built[0], succeeded(t, when))
	})
	t.Run("a panic counts as a failed attempt", func(t *testing.T) {
		r := makeReconnector(t, reconnectorOpts{fireImmediately: true, opts: withPrepare(func(protocol.Protocol) *deferred.Deferred[struct{}] {
			panic("not ready")
		})})
		when := r.service.WhenConnected(2)
		noResult(t, when)
		assert.True(t, r.transport(0).Disconnecting(), "the rejected connection is closed")
		r.clock.Advance(atLeastOneAttempt)
		noResult(t, when)
		r.clock.Advance(atLeastOneAttempt)
		var pe *deferred.PanicError
		assert.ErrorAs(t, failed(t, when), &pe)
	})
	t.Run("a connection lost while being prepared fails the attempt", func(t *testing.T) {
		r := makeReconnector(t, reconnectorOpts{fireImmediately: true, opts: withPrepare(func(protocol.Protocol) *deferred.Deferred[struct{}] {
			return deferred.New[struct{}]()
		})})
		when := r.service.WhenConnected(1)
		r.transport(0).Disconnect(errors.New("gone"))
		assert.ErrorIs(t, failed(t, when), deferred.ErrCancelled)
		assert.Len(t, r.clock.Pending(), 1, "a retry is scheduled")
	})
}

func TestBackoffPolicy(t *testing.T) {
	none := func() time.Duration { return 0 }
	p := protocol.BackoffPolicy(time.Second, time.Minute, 1.5, none)
	assert.Equal(t, 1500*time.Millisecond, p(1))
	assert.Equal(t, 2250*time.Millisecond, p(2))
	assert.Equal(t, time.Minute, p(20))
	assert.Equal(t, time.Minute, p(1_000_000), "no overflow")
	jittered := protocol.DefaultBackoffPolicy()
	for range 100 {
		d := jittered(1)
		assert.GreaterOrEqual(t, d, 1500*time.Millisecond)
		assert.Less(t, d, 2500*time.Millisecond)
	}
}

// A ClientService keeps a real conversation going across a lost connection,
// over in-memory pairs.
func TestClientServiceOverAPump(t *testing.T) {
	r := makeReconnector(t, reconnectorOpts{})
	first := &protocoltest.AccumulatingProtocol{}
	pump := r.endpoint.Attempt(0).SucceedWith(first)
	p := succeeded(t, r.service.WhenConnected(0)).(*protocoltest.AccumulatingProtocol)
	_, _ = p.Transport.Write([]byte("hello"))
	pump.Flush()
	assert.Equal(t, "hello", string(first.Data))
	first.Transport.AbortConnection()
	pump.Flush()
	assert.ErrorIs(t, p.Reason, protocol.ErrConnectionLost)
	noResult(t, r.service.WhenConnected(0))
	r.clock.Advance(atLeastOneAttempt)
	second := &protocoltest.AccumulatingProtocol{}
	r.endpoint.Attempt(1).SucceedWith(second)
	assert.Same(t, r.factory.built[1], succeeded(t, r.service.WhenConnected(0)))
}
