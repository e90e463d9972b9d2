package process

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frames(t *testing.T, fr *frameReader) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		b, err := fr.next()
		require.NoError(t, err)
		if b != nil {
			out = append(out, bytes.Clone(b))
			continue
		}
		if err := fr.fill(); err != nil {
			require.ErrorIs(t, err, io.EOF)
			return out
		}
	}
}

func TestFrameReaderSplitsAnyReads(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i, n := range []int{0, 1, 5, readBuf - 4, readBuf, 3 * readBuf, 7} {
		body := bytes.Repeat([]byte{byte(i)}, n)
		stream = binary.BigEndian.AppendUint32(stream, uint32(n))
		stream = append(stream, body...)
		want = append(want, body)
	}
	for name, r := range map[string]io.Reader{
		"whole":      bytes.NewReader(stream),
		"one byte":   iotest.OneByteReader(bytes.NewReader(stream)),
		"half reads": iotest.HalfReader(bytes.NewReader(stream)),
	} {
		t.Run(name, func(t *testing.T) {
			fr := newFrameReader(r, "the test", 4*readBuf)
			assert.Equal(t, want, frames(t, fr))
			assert.Len(t, fr.buf, readBuf, "the buffer shrinks back after long frames")
		})
	}
}

func TestFrameReaderLimit(t *testing.T) {
	fr := newFrameReader(bytes.NewReader(binary.BigEndian.AppendUint32(nil, 1025)), "the peer", 1024)
	require.NoError(t, fr.fill())
	_, err := fr.next()
	assert.ErrorIs(t, err, ErrFrameTooLarge)
	assert.EqualError(t, err, "process: frame too large: the peer sent a frame of 1025 bytes; the limit is 1024")
}

func TestReadFrameTruncated(t *testing.T) {
	fr := newFrameReader(bytes.NewReader([]byte{0, 0, 0, 9, 1, 2}), "the peer", 1024)
	_, err := fr.readFrame()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	fr = newFrameReader(bytes.NewReader(nil), "the peer", 1024)
	_, err = fr.readFrame()
	assert.ErrorIs(t, err, io.EOF)
}

func TestHelloRoundTrip(t *testing.T) {
	h := &hello{
		version:  protocolVersion,
		codec:    "gob",
		maxFrame: 1 << 20,
		depth:    64,
		pid:      1234,
		problem:  "none really",
		funcs:    []signature{{"a", "func(int) (int, error)"}, {"b", "stream(string) (int, error)"}},
	}
	f, err := parseFrame(appendHello(nil, h)[frameHeader:])
	require.NoError(t, err)
	got, err := parseHello(f)
	require.NoError(t, err)
	assert.Equal(t, h, got)
}

func TestHelloRejects(t *testing.T) {
	good := appendHello(nil, &hello{version: protocolVersion, funcs: []signature{{"a", "b"}}})[frameHeader:]
	other := appendHello(nil, &hello{version: protocolVersion + 1})[frameHeader:]
	for name, b := range map[string][]byte{
		"not a hello":    appendFrame(nil, kindCall, 0)[frameHeader:],
		"request id":     append([]byte{kindHello, 7}, good[2:]...),
		"magic":          bytes.Replace(good, []byte(helloMagic), []byte(strings.ToUpper(helloMagic)), 1),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte(nil), good...), 0),
	} {
		t.Run(name, func(t *testing.T) {
			f, err := parseFrame(b)
			if err == nil {
				_, err = parseHello(f)
			}
			assert.Error(t, err)
		})
	}
	// Another version parses as far as the version, whatever follows.
	f, err := parseFrame(other)
	require.NoError(t, err)
	h, err := parseHello(f)
	require.NoError(t, err)
	assert.Equal(t, protocolVersion+1, h.version)
}

func FuzzParseHello(f *testing.F) {
	f.Add(appendHello(nil, &hello{version: protocolVersion, codec: "gob", funcs: []signature{{"a", "b"}}})[frameHeader:])
	f.Add([]byte{kindHello, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFrame(b)
		if err != nil {
			return
		}
		h, err := parseHello(fr)
		if err != nil || h.version != protocolVersion {
			return
		}
		// What parses re-encodes to the same bytes.
		again := appendHello(nil, h)[frameHeader:]
		assert.Equal(t, b, again)
	})
}

func TestDiffSignatures(t *testing.T) {
	mine := []signature{{"a", "func(int) (int, error)"}, {"b", "x"}, {"c", "y"}}
	assert.Empty(t, diffSignatures(mine, mine))
	theirs := []signature{{"a", "func(string) (int, error)"}, {"c", "y"}, {"d", "z"}}
	assert.Equal(t, "the worker lacks b; only the worker has d; a is func(int) (int, error) here and func(string) (int, error) in the worker",
		diffSignatures(mine, theirs))
}

func TestGobCodecStartsAfreshAfterAnError(t *testing.T) {
	enc, dec := Gob().NewEncoder(), Gob().NewDecoder()
	type pair struct{ A, B int }
	b1, err := enc.Encode([]byte("head"), &pair{1, 2})
	require.NoError(t, err)
	assert.Equal(t, "head", string(b1[:4]), "Encode appends")
	var p pair
	require.NoError(t, dec.Decode(b1[4:], &p))
	assert.Equal(t, pair{1, 2}, p)

	// A value that gob cannot encode: the output is unchanged and the
	// next value starts a new stream, which the decoder follows.
	var unsupported any = func() {}
	b2, err := enc.Encode(nil, &unsupported)
	require.Error(t, err)
	assert.Empty(t, b2)
	b3, err := enc.Encode(nil, &pair{3, 4})
	require.NoError(t, err)
	assert.Equal(t, byte(gobRestart), b3[0])
	require.NoError(t, dec.Decode(b3, &p))
	assert.Equal(t, pair{3, 4}, p)

	// Reset, after an output was dropped, does the same.
	_, err = enc.Encode(nil, &pair{5, 6})
	require.NoError(t, err)
	enc.Reset()
	b4, err := enc.Encode(nil, &pair{7, 8})
	require.NoError(t, err)
	require.NoError(t, dec.Decode(b4, &p))
	assert.Equal(t, pair{7, 8}, p)

	// Values out of any stream are refused.
	assert.ErrorIs(t, Gob().NewDecoder().Decode([]byte{gobContinue, 1}, &p), errGobStream)
	assert.ErrorIs(t, dec.Decode(nil, &p), errGobStream)
	assert.ErrorIs(t, dec.Decode([]byte{200}, &p), errGobStream)
}

func TestTailKeepsTheLastLines(t *testing.T) {
	var tl tail
	for i := range 2000 {
		tl.add([]byte(strings.Repeat("x", i%50) + "\n"))
	}
	tl.add([]byte("last line, unterminated"))
	s := tl.String()
	assert.LessOrEqual(t, len(s), tailMax)
	assert.True(t, strings.HasSuffix(s, "\nlast line, unterminated\n"))
	assert.False(t, strings.HasPrefix(s, "\n"))
	first, _, _ := strings.Cut(s, "\n")
	assert.Equal(t, strings.Repeat("x", len(first)), first, "whole lines only")
}

func TestWorkerErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    WorkerError
		want string
	}{
		{WorkerError{PID: 7, ExitCode: 2, StderrTail: "panic: boom\n\ngoroutine 1\n"}, "process: worker 7 exited with status 2; stderr:\npanic: boom\n\ngoroutine 1"},
		{WorkerError{PID: 7, ExitCode: -1, Signal: syscall.SIGKILL, Err: ErrTimeout}, "process: worker 7 killed by signal 9 (killed): process: task timed out"},
		{WorkerError{PID: 7}, "process: worker 7 exited with status 0"},
	} {
		assert.Equal(t, tc.want, tc.e.Error())
	}
	we := &WorkerError{Err: ErrKilled}
	assert.True(t, errors.Is(we, ErrKilled))
}

func TestWorkerEnvLaterEntriesWin(t *testing.T) {
	t.Setenv("PROCESS_TEST_A", "parent")
	t.Setenv("GOMAXPROCS", "8")
	env := workerEnv(1, 10, []string{"PROCESS_TEST_A=extra", "PROCESS_TEST_B=1", "PROCESS_TEST_B=2"})
	get := func(k string) []string {
		var vs []string
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, k+"="); ok {
				vs = append(vs, v)
			}
		}
		return vs
	}
	assert.Equal(t, []string{"extra"}, get("PROCESS_TEST_A"))
	assert.Equal(t, []string{"2"}, get("PROCESS_TEST_B"))
	assert.Equal(t, []string{"1"}, get("GOMAXPROCS"))
	assert.Equal(t, []string{envWorkerValue}, get(envWorker))
	assert.Equal(t, []string{"10"}, get(envNice))
	env = workerEnv(0, 0, nil)
	assert.Equal(t, []string{"8"}, get("GOMAXPROCS"), "zero inherits")
	env = workerEnv(1, 0, []string{"GOMAXPROCS=3"})
	assert.Equal(t, []string{"3"}, get("GOMAXPROCS"), "WithEnv wins")
}

// TestFrameReaderCopiesALongFrameOnce: a long frame that arrives in many
// small reads is not moved in the buffer at each read.
func TestFrameReaderCopiesALongFrameOnce(t *testing.T) {
	const size = 256 << 10
	stream := binary.BigEndian.AppendUint32(nil, 5)
	stream = append(stream, "first"...)
	stream = binary.BigEndian.AppendUint32(stream, size)
	stream = append(stream, make([]byte, size)...)
	fr := newFrameReader(iotest.HalfReader(&chunkReader{stream, 512}), "the test", size)
	got := frames(t, fr)
	require.Len(t, got, 2)
	assert.Len(t, got[1], size)
	assert.Less(t, fr.moved, 2*readBuf, "the long frame was copied as it grew: %d bytes moved", fr.moved)
}

// chunkReader hands out its bytes n at a time at most.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}
