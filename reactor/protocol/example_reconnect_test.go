package protocol_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// EchoClientFactory is the port of a Twisted ReconnectingClientFactory
// subclass: it resets the delay once connected, and prints what happens.
type EchoClientFactory struct {
	*protocol.ReconnectingClientFactory
}

func (f *EchoClientFactory) BuildProtocol(net.Addr) protocol.Protocol {
	fmt.Println("connected")
	f.ResetDelay()
	return &protocol.Base{}
}

func (f *EchoClientFactory) ClientConnectionFailed(c protocol.Connector, reason error) {
	fmt.Println("failed:", reason)
	f.ReconnectingClientFactory.ClientConnectionFailed(c, reason)
}

func (f *EchoClientFactory) ClientConnectionLost(c protocol.Connector, reason error) {
	fmt.Println("lost:", reason)
	f.ReconnectingClientFactory.ClientConnectionLost(c, reason)
}

func ExampleReconnectingClientFactory() {
	clock := scheduler.NewManualClock() // the reactor, outside tests
	f := &EchoClientFactory{protocol.NewReconnectingClientFactory(clock, nil)}
	f.Jitter = 0 // for a printable delay
	f.Logger = slog.New(slog.DiscardHandler)

	// A connector whose attempts this example settles by hand; a real one
	// comes from connecting over TCP.
	c := protocoltest.NewConnector(f, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000})
	c.Connect()
	c.Fail(errors.New("connection refused"))
	fmt.Printf("retry in %.3fs\n", clock.Pending()[0].When().Sub(clock.Now()).Seconds())
	clock.Advance(3 * time.Second)
	c.Succeed().Disconnect(protocol.ErrConnectionLost)
	fmt.Printf("retry in %.3fs\n", clock.Pending()[0].When().Sub(clock.Now()).Seconds())
	f.StopTrying()
	fmt.Println("pending:", len(clock.Pending()))
	// Output:
	// failed: connection refused
	// retry in 2.718s
	// connected
	// lost: protocol: connection to the other side was lost
	// retry in 2.718s
	// pending: 0
}

func ExampleClientService() {
	clock := scheduler.NewManualClock() // the reactor, outside tests
	// An endpoint whose attempts this example settles by hand; a real one
	// connects over TCP.
	endpoint := protocoltest.NewEndpoint()
	factory := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &protocoltest.AccumulatingProtocol{} })
	service := protocol.NewClientService(endpoint, factory, clock,
		protocol.WithRetryPolicy(func(int) time.Duration { return 5 * time.Second }),
		protocol.WithServiceLogger(slog.New(slog.DiscardHandler)))
	service.StartService()

	conn := service.WhenConnected(0)
	conn.AddCallback(func(p protocol.Protocol) (protocol.Protocol, error) {
		fmt.Println("connected to", p.(*protocoltest.AccumulatingProtocol).Transport.RemoteAddr())
		return p, nil
	})
	endpoint.Attempt(0).Fail(errors.New("connection refused"))
	clock.Advance(5 * time.Second) // the second attempt starts
	endpoint.Attempt(1).Succeed()

	stopped := service.StopService()
	endpoint.Attempt(1).Transport().Disconnect(nil) // the close completes
	fmt.Println("stopped:", stopped.Called())
	// Output:
	// connected to 127.0.0.1:8080
	// stopped: true
}

func ExampleBackoffPolicy() {
	noJitter := func() time.Duration { return 0 }
	policy := protocol.BackoffPolicy(time.Second, 10*time.Second, 2, noJitter)
	for attempt := 1; attempt <= 5; attempt++ {
		fmt.Print(policy(attempt), " ")
	}
	fmt.Println()
	// Output: 2s 4s 8s 10s 10s
}
