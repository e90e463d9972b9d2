package protocoltest_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// Loopback pumps on a running reactor too: the bytes move on the reactor
// goroutine, and the Deferred fires there once both sides have closed.
func TestLoopbackOnAReactor(t *testing.T) {
	payload := bytes.Repeat([]byte("twine "), 10_000)
	server := &protocoltest.AccumulatingProtocol{}
	client := &sender{payload: payload}
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		return protocoltest.Loopback(r, server, client, protocoltest.WithChunkSize(1500))
	})
	require.NoError(t, err)
	assert.Equal(t, payload, server.Data)
	assert.ErrorIs(t, server.Reason, protocol.ErrConnectionDone)
	assert.Equal(t, 1, server.LostCount)
}
