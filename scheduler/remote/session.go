package remote

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// session is one connection of a pool and what runs on it: a publisher of
// tasks (a channel in confirm mode), a consumer of results (a channel of
// its own), and a channel for the cancellations it broadcasts. When any of
// them fails, the session ends as a whole, and the pool makes a new one.
type session struct {
	conn       *amqp.Connection
	cork       *corkConn // conn's socket
	pub        *confirmer
	ctl        *amqp.Channel
	cons       *amqp.Channel
	deliveries <-chan amqp.Delivery
	lostReply  bool          // the result queue had to be made anew
	done       chan struct{} // closed when the session is over

	connClosed, pubClosed, consClosed, ctlClosed chan *amqp.Error
	consCancelled                                chan string
}

// open connects and sets a session up: the topology declared, the result
// queue declared and consumed, the task channel in confirm mode.
func (p *Pool) open(ctx context.Context) (*session, error) {
	conn, cork, err := dialCorked(ctx, &p.cfg, connName(p.cfg.queue, "pool", p.id))
	if err != nil {
		return nil, err
	}
	s, err := p.setUp(conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	s.cork = cork
	return s, nil
}

func (p *Pool) setUp(conn *amqp.Connection) (*session, error) {
	s := &session{conn: conn, done: make(chan struct{})}
	s.connClosed = conn.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := p.topo.declare(ch); err != nil {
		return nil, err
	}
	var existed bool
	s.cons, existed, err = declareReply(conn, p.reply, p.cfg.resultExpiry)
	if err != nil {
		return nil, err
	}
	s.lostReply = !existed
	if err := s.cons.Qos(min(2*p.cfg.maxInFlight, 65535), 0, false); err != nil {
		return nil, err
	}
	// Exclusive: no other consumer can take this pool's results.
	if s.deliveries, err = s.cons.Consume(p.reply, "", false, true, false, false, nil); err != nil {
		return nil, err
	}
	if s.pub, err = newConfirmer(ch, p.cfg.maxInFlight+64, nil, nil); err != nil {
		return nil, err
	}
	if s.ctl, err = conn.Channel(); err != nil {
		return nil, err
	}
	s.pubClosed = ch.NotifyClose(make(chan *amqp.Error, 1))
	s.consClosed = s.cons.NotifyClose(make(chan *amqp.Error, 1))
	s.ctlClosed = s.ctl.NotifyClose(make(chan *amqp.Error, 1))
	s.consCancelled = s.cons.NotifyCancel(make(chan string, 1))
	return s, nil
}

// run serves on s, and on the sessions that follow it when a connection is
// lost, until the pool stops.
func (p *Pool) run(s *session) {
	defer p.wg.Done()
	b := backoff{min: p.cfg.reconnectMin, max: p.cfg.reconnectMax}
	for {
		p.attach(s)
		err := p.serve(s)
		p.detach(s)
		if err == nil {
			return
		}
		p.log.Warn("remote: pool lost its connection", "queue", p.cfg.queue, "error", err)
		b.reset()
		for {
			delay := b.next()
			p.log.Info("remote: pool reconnecting", "queue", p.cfg.queue, "in", delay)
			if !sleep(delay, p.stop) {
				return
			}
			if s, err = p.open(p.ctx); err == nil {
				break
			}
			p.log.Warn("remote: pool cannot reconnect", "queue", p.cfg.queue, "error", err)
		}
		p.mu.Lock()
		p.stats.Reconnects++
		p.mu.Unlock()
		p.log.Info("remote: pool reconnected", "queue", p.cfg.queue)
	}
}

// attach starts the pool's work on a new session. If the result queue was
// gone, the tasks the broker had taken would answer into nothing: they are
// published again.
func (p *Pool) attach(s *session) {
	p.mu.Lock()
	var again []*task
	if s.lostReply {
		for _, t := range p.tasks {
			if t.state == stConfirmed {
				t.state = stOutbox
				again = append(again, t)
			}
		}
		p.requeueLocked(again)
	}
	p.mu.Unlock()
	if len(again) > 0 {
		p.log.Warn("remote: the pool's result queue was gone; publishing its unanswered tasks again", "queue", p.reply, "tasks", len(again))
	}
	p.wake()
}

// detach takes back, for the next session, the tasks that s had taken to
// publish and the broker had not confirmed.
func (p *Pool) detach(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var again []*task
	for _, t := range p.tasks {
		if t.state == stSending && t.sess == s {
			t.state = stOutbox
			again = append(again, t)
		}
	}
	p.requeueLocked(again)
}

// requeueLocked puts tasks back at the head of the outbox, in the order of
// their calls, marked as published again.
func (p *Pool) requeueLocked(ts []*task) {
	if len(ts) == 0 {
		return
	}
	slices.SortFunc(ts, func(a, b *task) int { return cmp.Compare(a.seq, b.seq) })
	for _, t := range ts {
		t.again = true
	}
	p.outbox = append(ts, p.outbox...)
}

// serve runs the publisher and the consumer on s until s fails (its error
// is returned) or the pool stops (nil). When the pool stops, the result
// queue is deleted.
func (p *Pool) serve(s *session) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.publish(s)
	}()
	go func() {
		defer wg.Done()
		p.consume(s)
	}()
	var err error
	select {
	case e := <-s.connClosed:
		err = closeError(e)
	case e := <-s.pubClosed:
		err = fmt.Errorf("the task channel closed: %w", closeError(e))
	case e := <-s.consClosed:
		err = fmt.Errorf("the result channel closed: %w", closeError(e))
	case e := <-s.ctlClosed:
		err = fmt.Errorf("the control channel closed: %w", closeError(e))
	case <-s.consCancelled:
		err = errors.New("the broker cancelled the result consumer: the result queue was deleted")
	case <-p.stop:
		if _, derr := s.cons.QueueDelete(p.reply, false, false, false); derr != nil {
			p.log.Warn("remote: cannot delete the pool's result queue", "queue", p.reply, "error", derr)
		}
	}
	close(s.done)
	_ = s.conn.Close()
	wg.Wait()
	<-s.pub.done
	return err
}

// publish publishes the outbox, and the cancellations, as they come, until
// s is over.
func (p *Pool) publish(s *session) {
	for {
		p.mu.Lock()
		batch, cancels := p.outbox, p.cancels
		p.outbox, p.cancels = nil, nil
		again := 0
		for _, t := range batch {
			if t.state == stOutbox {
				t.state, t.sess = stSending, s
				if t.again {
					again++
				}
			}
		}
		p.mu.Unlock()
		if len(batch) == 0 && len(cancels) == 0 {
			select {
			case <-p.kick:
				continue
			case <-s.done:
				return
			}
		}
		// The batch goes out in one write, or few.
		s.cork.cork()
		sent := 0
		for _, t := range batch {
			// A task cancelled since is published all the same: its
			// cancellation follows it.
			if err := s.pub.publish(p.ctx, "", p.topo.queue, true, t.msg, func(o outcome) { p.confirmed(s, t, o) }); err != nil {
				// The session is over; detach takes the tasks back.
				s.cork.uncork()
				return
			}
			sent++
		}
		p.mu.Lock()
		p.stats.Published += int64(sent)
		p.stats.Republished += int64(min(again, sent))
		p.mu.Unlock()
		for _, id := range cancels {
			// Best effort: a worker that misses it runs the task, and its
			// result is dropped.
			_ = s.ctl.PublishWithContext(p.ctx, p.topo.control, "", false, false, amqp.Publishing{ContentType: cancelType, MessageId: id})
		}
		s.cork.uncork()
	}
}

// confirmed acts on the broker's word on a task that s published.
func (p *Pool) confirmed(s *session, t *task, o outcome) {
	p.mu.Lock()
	if t.state != stSending || t.sess != s {
		p.mu.Unlock()
		return
	}
	var err error
	switch o {
	case acked:
		t.state = stConfirmed
		p.mu.Unlock()
		return
	case lost:
		p.mu.Unlock() // detach takes it back
		return
	case returned:
		err = fmt.Errorf("%w: task %s (%s) to queue %q", ErrUnroutable, t.id, t.c.Func(), p.topo.queue)
	default:
		err = fmt.Errorf("%w: task %s (%s) to queue %q", ErrNotAccepted, t.id, t.c.Func(), p.topo.queue)
	}
	p.finishLocked(t)
	p.evs = append(p.evs, event{t.c, err})
	p.mu.Unlock()
	if t.timer != nil {
		_ = t.timer.Cancel()
	}
	p.flush()
}

// consume takes the results as they come, until s is over. It hands them
// to the loop, then acknowledges them, many at once: every resultAckBatch
// results, or resultAckDelay after one came. A result handed over and not
// yet acknowledged when the connection is lost comes again on the next
// one, and is found answered already.
func (p *Pool) consume(s *session) { p.takeResults(s.deliveries, s.cons) }

// takeResults is consume, on a channel's deliveries and the channel that
// acknowledges them.
func (p *Pool) takeResults(deliveries <-chan amqp.Delivery, ch acknowledger) {
	every := uint64(max(1, min(resultAckBatch, p.cfg.maxInFlight/2)))
	idle := time.NewTimer(resultAckDelay)
	idle.Stop()
	defer idle.Stop()
	armed := false
	var last, acked uint64 // delivery tags: the channel's results count from 1
	for {
		var d amqp.Delivery
		ok := true
		select {
		case d, ok = <-deliveries:
		case <-idle.C:
			armed = false
			if last > acked {
				if ch.Ack(last, true) != nil {
					return
				}
				acked = last
			}
			continue
		}
		if !ok {
			return
		}
		p.receive(&d)
		last = d.DeliveryTag
	more:
		for n := 1; n < 256; n++ {
			select {
			case d, ok = <-deliveries:
				if !ok {
					break more
				}
				p.receive(&d)
				last = d.DeliveryTag
			default:
				break more
			}
		}
		p.flush()
		if last-acked >= every || !ok {
			if err := ch.Ack(last, true); err != nil || !ok {
				return
			}
			acked = last
		} else if !armed {
			idle.Reset(resultAckDelay)
			armed = true
		}
	}
}

// A pool acknowledges its results together, every resultAckBatch of them
// (or half its in-flight limit, if less), or resultAckDelay after the
// first not acknowledged came: an acknowledgement each would cost the pool
// a write and the broker a command each.
const (
	resultAckBatch = 64
	resultAckDelay = 2 * time.Millisecond
)

// receive matches a result to its task. A result of another protocol
// version (a worker of another release of twine answering that it cannot
// read the task) fails its task with ErrMalformed.
func (p *Pool) receive(d *amqp.Delivery) {
	var res result
	var err error
	switch {
	case d.ContentType == resultType:
		res, err = readResult(d)
	case strings.HasPrefix(d.ContentType, resultBase):
		err = fmt.Errorf("%w: a worker answered in another protocol version (content type %q); this caller speaks version %d",
			ErrMalformed, d.ContentType, protocolVersion)
	default:
		p.log.Warn("remote: dropping a message that is not a result from the pool's result queue",
			"queue", p.reply, "content_type", d.ContentType, "message_id", d.MessageId)
		return
	}
	p.mu.Lock()
	t := p.tasks[d.CorrelationId]
	if t == nil {
		p.stats.Duplicates++
		p.mu.Unlock()
		return
	}
	p.finishLocked(t)
	p.stats.Results++
	if res.deliveries > 1 {
		p.stats.Redelivered++
	}
	p.mu.Unlock()
	if t.timer != nil {
		_ = t.timer.Cancel()
	}
	if err == nil {
		err = res.err(t.c.Func(), d.CorrelationId)
	}
	if err == nil {
		if derr := t.c.DecodeResult(res.payload, messageDecoder(p.cfg.codec)); derr != nil {
			err = fmt.Errorf("remote: decoding the result of %q: %w", t.c.Func(), derr)
		}
	}
	p.mu.Lock()
	p.evs = append(p.evs, event{t.c, err})
	p.mu.Unlock()
}
