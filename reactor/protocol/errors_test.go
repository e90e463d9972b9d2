package protocol_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/reactor/protocol"
)

// The tree of twisted.internet.error: ConnectionDone and ConnectionLost are
// ConnectionClosed, ConnectionAborted is ConnectionLost, ProcessDone is
// ConnectionDone and ProcessTerminated is ConnectionLost.
func TestReasonTree(t *testing.T) {
	tests := []struct {
		err     error
		is      []error
		isNot   []error
		message string
	}{
		{protocol.ErrConnectionDone, []error{protocol.ErrConnectionClosed}, []error{protocol.ErrConnectionLost}, "protocol: connection was closed cleanly"},
		{protocol.ErrConnectionLost, []error{protocol.ErrConnectionClosed}, []error{protocol.ErrConnectionDone, protocol.ErrConnectionAborted}, "protocol: connection to the other side was lost"},
		{protocol.ErrConnectionAborted, []error{protocol.ErrConnectionLost, protocol.ErrConnectionClosed}, []error{protocol.ErrConnectionDone}, "protocol: connection was aborted"},
		{protocol.ErrProcessDone, []error{protocol.ErrConnectionDone, protocol.ErrConnectionClosed}, []error{protocol.ErrConnectionLost}, "protocol: process finished with exit code 0"},
		{&protocol.ProcessTerminated{ExitCode: 3}, []error{protocol.ErrProcessTerminated, protocol.ErrConnectionLost, protocol.ErrConnectionClosed}, []error{protocol.ErrConnectionDone}, "protocol: process ended with exit code 3"},
		{&protocol.ProcessTerminated{ExitCode: -1, Signal: os.Kill}, []error{protocol.ErrProcessTerminated}, nil, "protocol: process ended by signal killed"},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			assert.EqualError(t, tt.err, tt.message)
			for _, target := range tt.is {
				assert.ErrorIs(t, tt.err, target)
			}
			for _, target := range tt.isNot {
				assert.NotErrorIs(t, tt.err, target)
			}
		})
	}
}

func TestDisconnectErrorMatchesReasonAndCause(t *testing.T) {
	err := error(&protocol.DisconnectError{Reason: protocol.ErrConnectionLost, Err: syscall.ECONNRESET})
	assert.ErrorIs(t, err, protocol.ErrConnectionLost)
	assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
	assert.NotErrorIs(t, err, protocol.ErrConnectionDone)
	assert.EqualError(t, err, "protocol: connection to the other side was lost: "+syscall.ECONNRESET.Error())
	var de *protocol.DisconnectError
	assert.True(t, errors.As(err, &de))

	bare := &protocol.DisconnectError{Reason: protocol.ErrConnectionAborted}
	assert.EqualError(t, bare, "protocol: connection was aborted")
	assert.ErrorIs(t, bare, protocol.ErrConnectionLost)
}
