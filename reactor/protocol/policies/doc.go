// Package policies holds policies that protocols take on, from Twisted's
// twisted.protocols.policies: for now [TimeoutMixin], the idle timeout
// that closes a connection on which nothing has happened for a while.
//
// A protocol embeds the TimeoutMixin, gives it the clock (the reactor, or
// a ManualClock in tests) and itself as TimeoutHandler, starts the timeout
// when it connects, resets it when data arrives, and says in
// TimeoutConnection what a timeout does:
//
//	type Session struct {
//		protocol.Base
//		policies.TimeoutMixin
//	}
//
//	func NewSession(clock scheduler.Clock) *Session {
//		s := &Session{}
//		s.Clock, s.TimeoutHandler = clock, s
//		return s
//	}
//
//	func (s *Session) ConnectionMade(t protocol.Transport) {
//		s.Base.ConnectionMade(t)
//		s.SetTimeout(30 * time.Second)
//	}
//
//	func (s *Session) DataReceived(data []byte) { s.ResetTimeout() }
//
//	func (s *Session) ConnectionLost(reason error) {
//		s.Base.ConnectionLost(reason)
//		s.SetTimeout(0)
//	}
//
//	func (s *Session) TimeoutConnection() { s.Transport.LoseConnection() }
package policies
