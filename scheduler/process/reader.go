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
// together, and hands the loop their events at once.
func (w *worker) readLoop(fr *frameReader) error {
	var frames []frame
	for {
		var perr error
		frames = frames[:0]
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
		if err := w.handle(frames); err != nil {
			return err
		}
		if perr != nil {
			return perr
		}
		if err := fr.fill(); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("process: reading from the worker: %w", err)
		}
	}
}

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// handle acts on frames from the worker, in order: it finds their tasks,
// under one hold of the pool's lock, then decodes their results and hands
// the loop the events. A frame that breaks the protocol stops it, and is
// the error; the frames before it are handled.
func (w *worker) handle(frames []frame) error {
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
	switch len(evs) {
	case 0:
		return perr
	case 1:
		// A lone call's answer, the usual case one at a time: its event
		// rides in the closure.
		ev := evs[0]
		evs[0] = event{}
		p.loop.CallSoon(func() { ev.run() })
	default:
		batch := slices.Clone(evs)
		clear(evs)
		p.loop.CallSoon(func() { runEvents(batch) })
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
