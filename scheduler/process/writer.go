package process

import (
	"encoding/binary"
	"fmt"
	"syscall"
)

// sendCall appends t's call frame to the input, a hot call if hot is set,
// and kicks the writer if kick is set (otherwise the caller writes it out
// with flushNow). An error (the argument cannot be encoded, or is too
// large) concerns t alone.
func (w *worker) sendCall(t *task, kick, hot bool) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.werr != nil || w.closeIn {
		return nil // it is going away, and t with it
	}
	start := len(w.wbuf)
	kind := kindCall
	if hot {
		kind = kindHot
	}
	b, at := beginFrame(w.wbuf, kind, t.id)
	b = binary.AppendUvarint(b, uint64(t.e.index))
	if !t.e.argEmpty {
		var err error
		if b, err = w.enc.Encode(b, t.arg); err != nil {
			w.wbuf = b[:start]
			return fmt.Errorf("process: encoding the argument of %q: %w", t.e.name, err)
		}
	}
	if n := len(b) - at - frameHeader; n > w.p.cfg.maxFrame {
		w.wbuf = b[:start]
		w.enc.Reset()
		return fmt.Errorf("%w: the argument of %q takes %d bytes; the limit is %d", ErrFrameTooLarge, t.e.name, n, w.p.cfg.maxFrame)
	}
	w.wbuf = endFrame(b, at)
	t.arg = nil
	t.impl.dropArg()
	if kick {
		w.kickLocked()
	}
	return nil
}

// flushNow writes the pending input from the calling goroutine, if no write
// is in progress, as far as the pipe takes it without waiting; the writer
// goroutine writes the rest. It saves a goroutine switch on the way to an
// idle worker, where the round trip's latency is what counts; busy workers
// get their input in batches from the writer.
func (w *worker) flushNow() {
	w.wmu.Lock()
	if w.wbusy || len(w.wbuf) == 0 || w.werr != nil || w.closeIn {
		w.wmu.Unlock()
		return
	}
	w.wbusy = true
	out := w.wbuf
	w.wbuf = w.spare[:0]
	w.wmu.Unlock()
	n, err := w.tryWrite(out)
	w.wmu.Lock()
	defer w.wmu.Unlock()
	switch {
	case err != nil:
		w.werr = err // the worker is gone: its reader will tell
		w.wbuf = w.wbuf[:0]
	case n < len(out):
		// The pipe is full: the writer goroutine takes over, and wbusy
		// stays set for it.
		w.wbuf = append(out[n:], w.wbuf...)
		w.kickc <- struct{}{}
		return
	default:
		w.spare = out[:0]
	}
	w.wbusy = false
	// Frames added meanwhile, or a closeInput that found the writing
	// busy, are the writer's to do.
	if len(w.wbuf) > 0 || w.closeIn {
		w.kickLocked()
	}
}

// tryWrite writes b without waiting for room in the pipe: it returns how
// much it wrote, and an error only if the pipe is broken. One write is in
// progress at a time (wbusy), so it keeps its state in w.raw.
func (w *worker) tryWrite(b []byte) (int, error) {
	r := &w.raw
	r.b, r.n, r.err = b, 0, nil
	err := w.inConn.Write(r.fn)
	n, werr := r.n, r.err
	r.b, r.err = nil, nil
	if werr == nil {
		werr = err
	}
	return n, werr
}

// rawWrite is tryWrite's state, and the function it gives the pipe's
// RawConn, made once per worker rather than once per write.
type rawWrite struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func (r *rawWrite) write(fd uintptr) bool {
	for len(r.b) > 0 {
		m, err := writeFD(fd, r.b)
		if err == syscall.EINTR {
			continue
		}
		if m > 0 {
			r.n += m
			r.b = r.b[m:]
		}
		if err != nil {
			if err != syscall.EAGAIN {
				r.err = err
			}
			break
		}
	}
	return true
}

// sendControl appends a cancel or credit frame to the input.
func (w *worker) sendControl(kind byte, id, n uint64) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.werr != nil || w.closeIn {
		return
	}
	if kind == kindCredit {
		w.wbuf = appendFrame(w.wbuf, kind, id, n)
	} else {
		w.wbuf = appendFrame(w.wbuf, kind, id)
	}
	w.kickLocked()
}

// closeInput closes the worker's input once what is pending has been
// written: a worker exits when its input ends.
func (w *worker) closeInput() {
	w.wmu.Lock()
	w.closeIn = true
	w.kickLocked()
	w.wmu.Unlock()
}

func (w *worker) kickLocked() {
	if !w.wbusy {
		w.wbusy = true
		select {
		case w.kickc <- struct{}{}:
		default:
		}
	}
}

// writeLoop writes the input out, in batches, until it is closed.
func (w *worker) writeLoop() {
	defer close(w.writerDone)
	for range w.kickc {
		w.wmu.Lock()
		for len(w.wbuf) > 0 && w.werr == nil {
			out := w.wbuf
			w.wbuf = w.spare[:0]
			w.wmu.Unlock()
			_, err := w.in.Write(out)
			w.wmu.Lock()
			if cap(out) <= 1<<20 {
				w.spare = out[:0]
			}
			if err != nil && w.werr == nil {
				w.werr = err // the worker is gone: its reader will tell
			}
		}
		w.wbuf = w.wbuf[:0]
		w.wbusy = false
		if w.closeIn {
			w.wmu.Unlock()
			_ = w.in.Close()
			return
		}
		w.wmu.Unlock()
	}
}
