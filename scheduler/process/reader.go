package process

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"

	"github.com/twinego/twine/deferred"
)

// readLoop reads the worker's frames until its output ends (nil) or it
// breaks the protocol (the reason). It handles the frames of each read
// together, and hands the loop their events at once. While the pool's loop
// reads the worker's output itself (see loopReader), readLoop waits.
func (w *worker) readLoop(fr *frameReader) error {
	for {
		n, err := w.drain(fr, false)
		if err != nil {
			return err
		}
		if n > 0 && fr.start == fr.end && w.p.lr != nil {
			if w.offerSkip > 0 {
				w.offerSkip--
			} else if w.p.lr.offer(w) {
				<-w.rback // the loop has handed the output back
				if w.lerr != nil {
					return w.lerr
				}
				w.backOff()
			}
			if w.out == nil {
				if err := w.reopenOutput(); err != nil {
					return fmt.Errorf("process: reading from the worker: %w", err)
				}
				continue
			}
		}
		if err := fr.fill(); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("process: reading from the worker: %w", err)
		}
	}
}

// drain handles the whole frames in fr's buffer, and reports how many it
// handled. An error is the protocol broken; the frames before the culprit
// are handled. onLoop says that it runs on the loop's goroutine, which then
// runs the events itself (see handle).
func (w *worker) drain(fr *frameReader, onLoop bool) (int, error) {
	frames := w.frames[:0]
	var perr error
	for {
		b, err := fr.next()
		if b == nil || err != nil {
			perr = err
			break
		}
		f, err := parseFrame(b)
		if err != nil {
			perr = protocolError("%v", err)
			break
		}
		frames = append(frames, f)
	}
	w.frames = frames[:0]
	if err := w.handle(frames, onLoop); err != nil {
		return len(frames), err
	}
	return len(frames), perr
}

// backOff sets how many batches of answers the reader handles before it
// offers the output to the loop again: none if the loop read answers while
// it had it, and twice as many each time (up to maxOfferSkip) if it handed
// it back unread, busy with other work, so that a loop that keeps busy does
// not cost every answer the hand-over both ways.
func (w *worker) backOff() {
	if w.lreads > 0 {
		w.offerBackoff = 0
	} else {
		w.offerBackoff = min(2*w.offerBackoff+1, maxOfferSkip)
	}
	w.offerSkip, w.lreads = w.offerBackoff, 0
}

const maxOfferSkip = 64

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// handle acts on frames from the worker, in order: it finds their tasks,
// under one hold of the pool's lock, then decodes their results and hands
// the loop the events (onLoop: it runs on the loop's goroutine, and leaves
// them to the loop reader, which has the loop run them). A frame that breaks
// the protocol stops it, and is the error; the frames before it are handled.
func (w *worker) handle(frames []frame, onLoop bool) error {
	if len(frames) == 0 {
		return nil
	}
	p := w.p
	w.rtasks = append(w.rtasks[:0], make([]*task, len(frames))...)
	w.rerrs = append(w.rerrs[:0], make([]error, len(frames))...)
	tasks, errs := w.rtasks, w.rerrs
	defer func() {
		clear(tasks)
		clear(errs)
	}()
	var perr error
	n := len(frames)
	for i, f := range frames {
		if f.kind == kindError {
			var err error
			if errs[i], err = remoteError(f.body); err != nil {
				perr, n = protocolError("%v in the error for request %d", err, f.id), i
				break
			}
		}
	}
	p.mu.Lock()
	for i, f := range frames[:n] {
		t := w.tasks[f.id]
		ok := t != nil
		switch f.kind {
		case kindResult:
			ok = ok && !t.e.stream
		case kindEnd:
			ok = ok && t.e.stream
			if len(f.body) != 0 {
				perr, n = protocolError("%v: end of stream %d with a body", errMalformed, f.id), i
			}
		case kindItem:
			ok = ok && t.e.stream
		case kindError:
		default:
			perr, n = protocolError("unknown frame kind %d", f.kind), i
		}
		if n == i {
			break
		}
		if !ok {
			perr, n = protocolError("unexpected frame of kind %d for request %d", f.kind, f.id), i
			break
		}
		tasks[i] = t
		if f.kind != kindItem {
			p.finishLocked(w, t)
		}
	}
	p.settleWorkerLocked(w)
	p.unlock()

	evs := w.revs[:0]
	for i, f := range frames[:n] {
		t, terr := tasks[i], errs[i]
		switch f.kind {
		case kindResult:
			if err := t.impl.decode(w.dec, f.body, false); err != nil {
				terr = fmt.Errorf("process: decoding the result of %q: %w", t.e.name, err)
			}
		case kindItem:
			if err := t.impl.decode(w.dec, f.body, true); err != nil {
				evs = append(evs, event{t: t, err: fmt.Errorf("process: decoding a value of %q: %w", t.e.name, err)})
				p.cancelRemote(t)
				continue
			}
			evs = append(evs, event{t: t, item: true})
			continue
		case kindError:
			if re, ok := terr.(*RemoteError); ok {
				re.Func = t.e.name
			}
		}
		evs = append(evs, event{t: t, err: terr})
	}
	w.revs = evs[:0]
	if onLoop {
		p.lr.take(evs)
		clear(evs)
		return perr
	}
	switch len(evs) {
	case 0:
		return perr
	case 1:
		// A lone call's answer, the usual case one at a time: its event
		// rides in the closure.
		ev := evs[0]
		evs[0] = event{}
		p.postOne(ev)
	default:
		batch := slices.Clone(evs)
		clear(evs)
		p.post(batch)
	}
	// Let the loop's goroutine, just readied, run now: with few
	// processors it would otherwise wait for this goroutine's next read,
	// which mostly finds nothing yet, and parks. Done after the loop has
	// sent the next call, that read finds its answer more often.
	runtime.Gosched()
	return perr
}

// remoteError turns the body of an error frame into the task's error.
func remoteError(body []byte) (error, error) {
	r := reader{b: body}
	kind := r.byte()
	text := r.string()
	if r.err != nil {
		return nil, r.err
	}
	switch kind {
	case errFunc:
		return &RemoteError{Text: text}, nil
	case errPanic:
		return &deferred.PanicError{Value: text, Stack: append([]byte(nil), r.b...)}, nil
	case errTooLarge:
		return fmt.Errorf("%w: %s", ErrFrameTooLarge, text), nil
	case errInternal:
		return errors.New(text), nil
	}
	return nil, fmt.Errorf("%w: error kind %d", errMalformed, kind)
}
