package process

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// tailMax is how much of a worker's stderr its WorkerError keeps: the last
// lines, up to this many bytes.
const tailMax = 8 << 10

// tail keeps the last lines a worker wrote on stderr.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) add(line []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, line...)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		t.buf = append(t.buf, '\n')
	}
	if over := len(t.buf) - tailMax; over > 0 {
		// Drop whole lines from the front.
		cut := over
		if i := bytes.IndexByte(t.buf[over:], '\n'); i >= 0 && i+over+1 < len(t.buf) {
			cut = over + i + 1
		}
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// stderrLoop forwards the worker's stderr to the logger, a line at a time,
// and keeps its tail, until it ends.
func (w *worker) stderrLoop(pid int) {
	defer close(w.stderrDone)
	r := bufio.NewReaderSize(w.errp, 4096)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			w.tail.add(line)
			text := string(bytes.TrimRight(line, "\r\n"))
			w.p.log.LogAttrs(context.Background(), slog.LevelInfo, "process: worker stderr", slog.Int("pid", pid), slog.String("line", text))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}
