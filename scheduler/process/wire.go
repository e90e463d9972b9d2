package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// The wire. Each direction of a worker's pipes carries frames:
//
//	uint32  length of what follows, big-endian
//	byte    kind
//	uvarint request id (0 for the hello)
//	...     the kind's body
//
// The parent sends hello, call (body: uvarint function index, then the
// argument as the codec encoded it), hot call (a call whose answer the
// parent's loop waits for, ready to send the next call at once: the worker
// may spin for that one), cancel and credit (body: uvarint count);
// the worker answers hello, and for each call either one result (body: the
// encoded value) or one error (body: byte error kind, uvarint text length,
// text, stack), or for a stream any number of items followed by one end or
// one error. A worker sends at most creditWindow items of a stream ahead of
// the credits the parent has granted, so that a fast stream cannot flood the
// parent's loop.
const (
	frameHeader = 4

	kindHello  byte = 1
	kindCall   byte = 2
	kindCancel byte = 3
	kindCredit byte = 4
	kindHot    byte = 5 // a hot call
	kindResult byte = 16
	kindItem   byte = 17
	kindEnd    byte = 18
	kindError  byte = 19

	// errors a worker reports for a task
	errFunc     byte = 1 // the function returned an error
	errPanic    byte = 2 // the function panicked
	errTooLarge byte = 3 // its result did not fit in a frame
	errInternal byte = 4 // the worker could not run it (argument decoding, say)

	// creditWindow is how many items of a stream may be in flight.
	creditWindow = 64

	// helloMax bounds the hello frames, which come before the peers have
	// agreed on a maximum frame size.
	helloMax = 4 << 20

	helloMagic = "twine/scheduler/process"
)

// protocolVersion is the version of this wire format, checked in the
// handshake; version 2 added the gob codec's short values, version 3 the
// hot call. It is a variable
// only so that tests can make a worker that speaks another.
var protocolVersion uint64 = 3

// beginFrame appends a frame header for kind and id to dst and returns the
// extended slice and the offset of the length field, for endFrame.
func beginFrame(dst []byte, kind byte, id uint64) ([]byte, int) {
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0, kind)
	dst = binary.AppendUvarint(dst, id)
	return dst, at
}

// endFrame fills in the length of the frame begun at offset at.
func endFrame(dst []byte, at int) []byte {
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-frameHeader))
	return dst
}

// appendFrame appends a whole frame whose body is a list of uvarints.
func appendFrame(dst []byte, kind byte, id uint64, nums ...uint64) []byte {
	dst, at := beginFrame(dst, kind, id)
	for _, n := range nums {
		dst = binary.AppendUvarint(dst, n)
	}
	return endFrame(dst, at)
}

// appendErrorFrame appends an error frame for request id.
func appendErrorFrame(dst []byte, id uint64, kind byte, text string, stack []byte) []byte {
	dst, at := beginFrame(dst, kindError, id)
	dst = append(dst, kind)
	dst = appendString(dst, text)
	dst = append(dst, stack...)
	return endFrame(dst, at)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errMalformed = errors.New("malformed frame")

// frame is a frame's kind, request id and body, parsed from its bytes
// (without the length field).
type frame struct {
	kind byte
	id   uint64
	body []byte
}

func parseFrame(b []byte) (frame, error) {
	if len(b) < 2 {
		return frame{}, errMalformed
	}
	id, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return frame{}, errMalformed
	}
	return frame{kind: b[0], id: id, body: b[1+n:]}, nil
}

// reader reads the fields of a frame's body; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errMalformed
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errMalformed
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errMalformed
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	if !utf8.ValidString(s) {
		r.err = errMalformed
	}
	return s
}

// readBuf is the initial size of a frameReader's buffer.
const readBuf = 64 << 10

// frameReader splits what it reads into frames. Its buffer grows for a
// frame longer than it, and shrinks back after.
type frameReader struct {
	r          io.Reader
	peer       string // who sends, for errors: "the worker", "the parent"
	limit      int    // the longest frame allowed
	buf        []byte
	start, end int
	moved      int // bytes copied within or between buffers, for tests
}

func newFrameReader(r io.Reader, peer string, limit int) *frameReader {
	return &frameReader{r: r, peer: peer, limit: limit, buf: make([]byte, readBuf)}
}

// next returns the next whole frame read (without its length field), or nil
// if there is none yet; an error if the frame is longer than the limit.
// The frame's bytes are valid until the next fill.
func (fr *frameReader) next() ([]byte, error) {
	if fr.end-fr.start < frameHeader {
		return nil, nil
	}
	size := uint64(binary.BigEndian.Uint32(fr.buf[fr.start:]))
	if size > uint64(fr.limit) {
		return nil, fmt.Errorf("%w: %s sent a frame of %d bytes; the limit is %d", ErrFrameTooLarge, fr.peer, size, fr.limit)
	}
	need := frameHeader + int(size)
	if fr.end-fr.start < need {
		return nil, nil
	}
	b := fr.buf[fr.start+frameHeader : fr.start+need]
	fr.start += need
	return b, nil
}

// fill reads more. The frame begun in the buffer stays where it is if it
// fits there; otherwise it moves to the front, or into a larger buffer (or
// back into a buffer of the usual size, after a long frame), so that a
// frame costs one copy at most, however many reads it takes. fill returns
// the reader's error if it read nothing.
func (fr *frameReader) fill() error {
	need := frameHeader
	if fr.end-fr.start >= frameHeader {
		need += int(binary.BigEndian.Uint32(fr.buf[fr.start:]))
	}
	switch {
	case need > len(fr.buf), len(fr.buf) > readBuf && need <= readBuf:
		nb := make([]byte, max(need, readBuf))
		fr.end = copy(nb, fr.buf[fr.start:fr.end])
		fr.buf, fr.start = nb, 0
		fr.moved += fr.end
	case fr.start == fr.end:
		fr.start, fr.end = 0, 0
	case fr.start+need > len(fr.buf):
		fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
		fr.start = 0
		fr.moved += fr.end
	}
	n, err := fr.r.Read(fr.buf[fr.end:])
	fr.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readFrame reads one frame, for the handshake.
func (fr *frameReader) readFrame() (frame, error) {
	for {
		b, err := fr.next()
		if err != nil {
			return frame{}, err
		}
		if b != nil {
			return parseFrame(b)
		}
		if err := fr.fill(); err != nil {
			if err == io.EOF && fr.end > 0 {
				err = io.ErrUnexpectedEOF
			}
			return frame{}, err
		}
	}
}

// hello is what each side says first. The parent sends its protocol
// version, codec, frame limit and functions; the worker checks them and
// answers with its own version, pid, functions and, if they do not match,
// the reason in problem.
type hello struct {
	version  uint64
	codec    string // parent's only
	maxFrame uint64 // parent's only
	depth    uint64 // parent's only: tasks in flight per worker at most
	pid      uint64 // worker's only
	problem  string // worker's only
	funcs    []signature
}

// signature is a registered function as the handshake compares it.
type signature struct {
	name string
	sig  string
}

func appendHello(dst []byte, h *hello) []byte {
	dst, at := beginFrame(dst, kindHello, 0)
	dst = appendString(dst, helloMagic)
	dst = binary.AppendUvarint(dst, h.version)
	dst = appendString(dst, h.codec)
	dst = binary.AppendUvarint(dst, h.maxFrame)
	dst = binary.AppendUvarint(dst, h.depth)
	dst = binary.AppendUvarint(dst, h.pid)
	dst = appendString(dst, h.problem)
	dst = binary.AppendUvarint(dst, uint64(len(h.funcs)))
	for _, f := range h.funcs {
		dst = appendString(dst, f.name)
		dst = appendString(dst, f.sig)
	}
	return endFrame(dst, at)
}

// errNotHello means that the peer did not open with a hello of this
// protocol: it is not a worker of this package, or not of any version.
var errNotHello = errors.New("the peer did not answer with a hello of this package's protocol")

// parseHello reads a hello frame. Only the magic and the version are read
// when the version differs, since the rest may then have another layout.
func parseHello(f frame) (*hello, error) {
	if f.kind != kindHello || f.id != 0 {
		return nil, errNotHello
	}
	r := reader{b: f.body}
	if r.string() != helloMagic || r.err != nil {
		return nil, errNotHello
	}
	h := &hello{version: r.uvarint()}
	if r.err != nil {
		return nil, errNotHello
	}
	if h.version != protocolVersion {
		return h, nil
	}
	h.codec = r.string()
	h.maxFrame = r.uvarint()
	h.depth = r.uvarint()
	h.pid = r.uvarint()
	h.problem = r.string()
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		r.err = errMalformed
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		h.funcs = append(h.funcs, signature{name: r.string(), sig: r.string()})
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w in the hello", errMalformed)
	}
	return h, nil
}
