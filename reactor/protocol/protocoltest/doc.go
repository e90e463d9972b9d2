// Package protocoltest holds test helpers for protocols: transports that
// live in memory, so that a protocol's tests need no sockets, no
// goroutines and no sleeps. It ports Twisted's twisted.internet.testing
// (formerly proto_helpers), the pump of twisted.test.iosim and
// twisted.protocols.loopback.
//
//   - [StringTransport] records what a protocol writes and lets the test
//     feed it bytes, an end of stream and the end of the connection.
//   - [Connect] joins a server and a client protocol through a pair of
//     [FakeTransport]s; the test moves the bytes with [Pump.Pump] and
//     [Pump.Flush], and the pair keeps the Transport contract: buffers
//     flushed before a close, aborts that drop them, half-closes, and
//     backpressure with high and low water marks. [Loopback] pumps such a
//     pair on a [scheduler.Loop] (a ManualClock or the reactor) by itself.
//   - [Connector] and [Endpoint] stand for a connector and a client
//     endpoint whose attempts the test completes or fails, for testing
//     factories and services that connect.
//   - [AccumulatingProtocol] records what happens to it.
//
// Every callback runs on the test's goroutine, in the order the test's
// calls cause, and never inside another callback of the same protocol.
//
//	p := &Echo{}
//	tr := protocoltest.NewStringTransport()
//	tr.Connect(p)
//	tr.FeedString("hello")
//	fmt.Println(tr.String()) // hello
package protocoltest
