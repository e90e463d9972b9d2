package protocoltest_test

import (
	"fmt"
	"net"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// Upper answers each chunk in capitals.
type Upper struct{ protocol.Base }

func (u *Upper) DataReceived(data []byte) {
	out := make([]byte, len(data))
	for i, b := range data {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		out[i] = b
	}
	_, _ = u.Transport.Write(out)
}

func ExampleStringTransport() {
	tr := protocoltest.NewStringTransport()
	tr.Connect(&Upper{})
	tr.FeedString("hello")
	fmt.Println(tr.String())
	tr.Disconnect(nil)
	fmt.Println(tr.Connected())
	// Output:
	// HELLO
	// false
}

func ExampleConnect() {
	server := &Upper{}
	client := &protocoltest.AccumulatingProtocol{}
	pump := protocoltest.Connect(server, client)
	_, _ = client.Transport.Write([]byte("ping"))
	client.Transport.LoseConnection()
	pump.Flush()
	fmt.Printf("%s %v\n", client.Data, client.Reason)
	// Output: PING protocol: connection was closed cleanly
}

func ExampleLoopback() {
	clock := scheduler.NewManualClock()
	server := &Upper{}
	client := &protocoltest.AccumulatingProtocol{}
	done := protocoltest.Loopback(clock, server, client)
	_, _ = client.Transport.Write([]byte("over the loop"))
	clock.Advance(0)
	fmt.Printf("%s\n", client.Data)
	client.Transport.LoseConnection()
	clock.Advance(0)
	fmt.Println(done.Called())
	// Output:
	// OVER THE LOOP
	// true
}

func ExampleEndpoint() {
	e := protocoltest.NewEndpoint()
	d := e.Connect(protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Upper{} }))
	fmt.Println("pending:", e.Attempt(0).Pending())
	tr := e.Attempt(0).Succeed()
	p, err := d.Result()
	fmt.Printf("%T %v\n", p, err)
	tr.FeedString("hi")
	fmt.Println(tr.String())
	// Output:
	// pending: true
	// *protocoltest_test.Upper <nil>
	// HI
}

// printingFactory is a client factory that says what its connector tells
// it.
type printingFactory struct{ protocol.ClientFactoryBase }

func (printingFactory) BuildProtocol(net.Addr) protocol.Protocol { return &Upper{} }

func (printingFactory) ClientConnectionFailed(_ protocol.Connector, reason error) {
	fmt.Println("failed:", reason)
}

func (printingFactory) ClientConnectionLost(_ protocol.Connector, reason error) {
	fmt.Println("lost:", reason)
}

func ExampleConnector() {
	c := protocoltest.NewConnector(printingFactory{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000})
	c.Connect()
	c.StopConnecting()
	c.Connect()
	tr := c.Succeed()
	tr.Disconnect(nil)
	// Output:
	// failed: protocol: connection attempt failed: protocol: connection attempt cancelled
	// lost: protocol: connection was closed cleanly
}
