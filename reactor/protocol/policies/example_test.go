package policies_test

import (
	"fmt"
	"time"

	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/policies"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
	"github.com/twinego/twine/scheduler"
)

// Session closes its connection after 30 seconds without data.
type Session struct {
	protocol.Base
	policies.TimeoutMixin
}

func NewSession(clock scheduler.Clock) *Session {
	s := &Session{}
	s.Clock, s.TimeoutHandler = clock, s
	return s
}

func (s *Session) ConnectionMade(t protocol.Transport) {
	s.Base.ConnectionMade(t)
	s.SetTimeout(30 * time.Second)
}

func (s *Session) DataReceived([]byte) { s.ResetTimeout() }

func (s *Session) ConnectionLost(reason error) {
	s.Base.ConnectionLost(reason)
	s.SetTimeout(0)
}

func (s *Session) TimeoutConnection() {
	fmt.Println("timed out")
	s.Transport.LoseConnection()
}

func ExampleTimeoutMixin() {
	clock := scheduler.NewManualClock() // the reactor, outside tests
	s := NewSession(clock)
	tr := protocoltest.NewStringTransport(protocoltest.WithImmediateClose())
	tr.Connect(s)
	clock.Advance(20 * time.Second)
	tr.FeedString("ping") // the 30 seconds start again
	clock.Advance(20 * time.Second)
	fmt.Println("connected:", s.Connected)
	clock.Advance(10 * time.Second)
	fmt.Println("connected:", s.Connected)
	// Output:
	// connected: true
	// timed out
	// connected: false
}
