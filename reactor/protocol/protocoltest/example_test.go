package protocoltest_test

import (
	"fmt"

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
