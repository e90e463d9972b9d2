package main

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the program: the server and its client's queries over
// loopback.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	assert.Equal(t, `finger "moshez": "Happy and well\r\n", then the server closed the connection
finger "nobody": "No such user\r\n", then the server closed the connection
finger an empty line: "No such user\r\n", then the server closed the connection
finger "moshez" and "nobody" in one write: "Happy and well\r\n", then the server closed the connection
finger a line of 16384 bytes: "No such user\r\n", then the server closed the connection
finger a line of 16385 bytes: no answer, then the server closed the connection
`, out.String())
}

// source is a UserSource whose Deferreds the test fires.
type source struct {
	asked []string
	ds    []*deferred.Deferred[string]
}

func (s *source) GetUser(user string) *deferred.Deferred[string] {
	d := deferred.New[string]()
	s.asked = append(s.asked, user)
	s.ds = append(s.ds, d)
	return d
}

// TestAnswerWaitsForTheDeferred: the protocol answers when the lookup's
// Deferred fires, not before, and then closes.
func TestAnswerWaitsForTheDeferred(t *testing.T) {
	users := &source{}
	p := NewFingerProtocol(users)
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	tr.Feed([]byte("mosh"))
	assert.Empty(t, users.asked, "no line yet")
	tr.Feed([]byte("ez\r\n"))
	require.Equal(t, []string{"moshez"}, users.asked)
	assert.Empty(t, tr.String(), "nothing is written before the Deferred fires")
	assert.False(t, tr.Disconnecting())

	users.ds[0].Callback("Out to lunch")
	assert.Equal(t, "Out to lunch\r\n", tr.String())
	assert.True(t, tr.Disconnecting(), "the server closes once it has answered")
	assert.False(t, tr.Aborted(), "a clean close, after the answer is written")
}

// TestLinesWhileALookupWaits: with a lookup that answers later, two lines
// in one chunk are both looked up, since the connection is not closing yet;
// the first answer closes it, and the second answer, written after
// LoseConnection, is dropped (Twisted would still send it while its buffer
// drains: docs/porting.md says so).
func TestLinesWhileALookupWaits(t *testing.T) {
	users := &source{}
	p := NewFingerProtocol(users)
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	tr.Feed([]byte("moshez\r\nnobody\r\n"))
	require.Equal(t, []string{"moshez", "nobody"}, users.asked)
	users.ds[0].Callback("Happy and well")
	users.ds[1].Callback("No such user")
	assert.Equal(t, "Happy and well\r\n", tr.String())
	assert.True(t, tr.Disconnecting())
}

// TestFailedLookup: a lookup whose Deferred fails is answered "Internal
// error in server", as the errback of Twisted's FingerProtocol does.
func TestFailedLookup(t *testing.T) {
	users := &source{}
	p := NewFingerProtocol(users)
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	tr.Feed([]byte("moshez\r\n"))
	require.Len(t, users.ds, 1)
	users.ds[0].Errback(errors.New("the database is down"))
	assert.Equal(t, "Internal error in server\r\n", tr.String())
	assert.True(t, tr.Disconnecting())
}

// TestLineTooLong: a line over the limit closes the connection with no
// answer and no lookup; the receiver says why.
func TestLineTooLong(t *testing.T) {
	users := &source{}
	p := NewFingerProtocol(users)
	tr := protocoltest.NewStringTransport()
	tr.Connect(p)
	tr.Feed([]byte(strings.Repeat("x", basic.DefaultMaxLength+1) + "\r\n"))
	assert.Empty(t, users.asked)
	assert.Empty(t, tr.String())
	assert.True(t, tr.Disconnecting())
	assert.ErrorIs(t, p.Err(), basic.ErrLineLengthExceeded)
}

// TestFactory: the factory answers from its database, and each protocol it
// builds asks it.
func TestFactory(t *testing.T) {
	f := NewFingerFactory(map[string]string{"glyph": "Hacking"})
	for user, want := range map[string]string{"glyph": "Hacking", "moshez": "No such user", "": "No such user"} {
		got, err := f.GetUser(user).Result()
		require.NoError(t, err)
		assert.Equal(t, want, got, "user %q", user)
	}
	tr := protocoltest.NewStringTransport()
	tr.Connect(f.BuildProtocol(tr.RemoteAddr()))
	tr.Feed([]byte("glyph\r\n"))
	assert.Equal(t, "Hacking\r\n", tr.String())
}

// TestGuideQuotesTheseFiles checks that every piece of the finger port in
// docs/porting.md is code of this program: its Go side from main.go, its
// Python side from twisted/finger.py (the guide indents Go with four
// spaces where gofmt puts a tab).
func TestGuideQuotesTheseFiles(t *testing.T) {
	guide, err := os.ReadFile("../../docs/porting.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(guide), "\n## A worked network port\n")
	require.True(t, found, "docs/porting.md has no section on the finger port")
	section, _, _ = strings.Cut(section, "\n## ")

	source, err := os.ReadFile("main.go")
	require.NoError(t, err)
	code := strings.ReplaceAll(string(source), "\t", "    ")
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	require.GreaterOrEqual(t, len(blocks), 3, "the guide shows the Go side piece by piece")
	for _, b := range blocks {
		assert.Contains(t, code, b[1], "a piece quoted in docs/porting.md is not in main.go")
	}

	python, err := os.ReadFile("twisted/finger.py")
	require.NoError(t, err)
	blocks = regexp.MustCompile("(?s)```python\n(.*?)```").FindAllStringSubmatch(section, -1)
	require.GreaterOrEqual(t, len(blocks), 3, "the guide shows the Python side piece by piece")
	for _, b := range blocks {
		assert.Contains(t, string(python), b[1], "a piece quoted in docs/porting.md is not in twisted/finger.py")
	}
}
