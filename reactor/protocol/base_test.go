package protocol_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/reactor/protocol"
)

func TestBaseKeepsTheTransport(t *testing.T) {
	var b protocol.Base
	assert.False(t, b.Connected)
	var tr protocol.Transport // any transport will do: Base only keeps it
	b.ConnectionMade(tr)
	assert.True(t, b.Connected)
	b.DataReceived([]byte("ignored"))
	b.ConnectionLost(protocol.ErrConnectionDone)
	assert.False(t, b.Connected)
}

func TestFactoryFuncBuilds(t *testing.T) {
	var seen net.Addr
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	f := protocol.FactoryFunc(func(a net.Addr) protocol.Protocol {
		seen = a
		return &protocol.Base{}
	})
	p := f.BuildProtocol(addr)
	assert.IsType(t, &protocol.Base{}, p)
	assert.Equal(t, addr, seen)
}
