package main

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the server and the client over a loopback connection.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out, "", ""))
	assert.Equal(t, "server said: hello, world!\n"+
		"server said: what a fine day it is.\n"+
		"server said: bye-bye!\n"+
		"connection closed: protocol: connection was closed cleanly\n", out.String())
}

// TestClientAgainstRefusingAddress: a client with no server gets a clear
// error, and the program ends.
func TestClientAgainstRefusingAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	err = run(&strings.Builder{}, "", addr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection refused")
}
