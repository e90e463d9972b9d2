package remote

import (
	"context"
	"errors"
	"slices"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// outcome is what became of a publish on a channel in confirm mode.
type outcome uint8

const (
	acked    outcome = iota // the broker has it
	nacked                  // the broker refused it
	returned                // no queue took it (mandatory publishes only)
	lost                    // the channel closed before the broker said
)

// confirmer publishes on a channel in confirm mode and tells each publish's
// outcome to the function given with it, on the confirmer's goroutine,
// which must not be held up: the functions are short (a worker's acknowledges
// its task, a write to the connection) and wait for nothing else.
//
// The broker numbers the publishes of a channel from 1, and confirms them
// (with basic.ack or basic.nack) in some order; a mandatory publish that no
// queue takes comes back (basic.return) before its confirm. The confirmer
// numbers its publishes itself, under a lock held across the publish, so
// that a publish is in its table before its confirm can come; and it reads
// returns and confirms on one goroutine, the returns from an unbuffered
// channel, so that a return is recorded before the confirm that follows it.
type confirmer struct {
	ch    *amqp.Channel
	cork  *corkConn // if not nil, corked while the confirms at hand are told
	after func()    // if not nil, called after the confirms at hand are told

	pubMu sync.Mutex // held across a publish
	last  uint64     // the number of the last publish, in pubMu

	mu      sync.Mutex
	pending map[uint64]pendingPub
	returns map[string]int // ids returned, whose confirm has not come
	closed  bool

	done chan struct{} // closed when the confirmer's goroutine has ended
}

type pendingPub struct {
	id string
	f  func(outcome)
}

// newConfirmer puts ch in confirm mode. capacity bounds the confirms
// buffered between the connection's reader and the confirmer. If cork is
// not nil, the writes of the functions told of the confirms at hand (the
// acknowledgements of a worker's tasks) go out together; after, if not nil,
// is called once they have been told, before those writes go.
func newConfirmer(ch *amqp.Channel, capacity int, cork *corkConn, after func()) (*confirmer, error) {
	if err := ch.Confirm(false); err != nil {
		return nil, err
	}
	c := &confirmer{
		ch:      ch,
		cork:    cork,
		after:   after,
		pending: make(map[uint64]pendingPub),
		returns: make(map[string]int),
		done:    make(chan struct{}),
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, capacity))
	rets := ch.NotifyReturn(make(chan amqp.Return))
	go c.run(confirms, rets)
	return c, nil
}

// publish publishes msg, whose MessageId names it in returns, and has f
// told its outcome, once. If the publish could not be written (the channel
// or connection is closed), it returns an error and f is never called.
func (c *confirmer) publish(ctx context.Context, exchange, key string, mandatory bool, msg amqp.Publishing, f func(outcome)) error {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	return c.publishLocked(ctx, exchange, key, mandatory, msg, f)
}

// errBusy says that another publish holds the channel.
var errBusy = errors.New("remote: the channel is busy")

// tryPublish is publish, unless another publish holds the channel: then it
// returns errBusy at once, and f is never called.
func (c *confirmer) tryPublish(ctx context.Context, exchange, key string, mandatory bool, msg amqp.Publishing, f func(outcome)) error {
	if !c.pubMu.TryLock() {
		return errBusy
	}
	defer c.pubMu.Unlock()
	return c.publishLocked(ctx, exchange, key, mandatory, msg, f)
}

// publishLocked is publish, with pubMu held.
func (c *confirmer) publishLocked(ctx context.Context, exchange, key string, mandatory bool, msg amqp.Publishing, f func(outcome)) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return amqp.ErrClosed
	}
	tag := c.last + 1
	c.pending[tag] = pendingPub{id: msg.MessageId, f: f}
	c.mu.Unlock()
	if err := c.ch.PublishWithContext(ctx, exchange, key, mandatory, false, msg); err != nil {
		c.mu.Lock()
		_, mine := c.pending[tag]
		delete(c.pending, tag)
		c.mu.Unlock()
		if !mine {
			// The channel closed meanwhile, and fail took the publish:
			// f hears that it is lost.
			return nil
		}
		return err
	}
	c.last = tag
	return nil
}

func (c *confirmer) run(confirms <-chan amqp.Confirmation, rets <-chan amqp.Return) {
	defer close(c.done)
	for {
		select {
		case r, ok := <-rets:
			if !ok {
				rets = nil
				continue
			}
			c.mu.Lock()
			c.returns[r.MessageId]++
			c.mu.Unlock()
		case cf, ok := <-confirms:
			if !ok {
				c.fail()
				return
			}
			c.cork.cork()
			c.confirm(cf)
			if c.cork != nil {
				// The confirms at hand, together. Those that follow a
				// return wait for it to be read: the reader hands it
				// over before them.
			burst:
				for range 256 {
					select {
					case cf, ok = <-confirms:
						if !ok {
							c.cork.uncork()
							c.fail()
							return
						}
						c.confirm(cf)
					default:
						break burst
					}
				}
			}
			if c.after != nil {
				c.after()
			}
			c.cork.uncork()
		}
	}
}

// confirm tells a publish's outcome.
func (c *confirmer) confirm(cf amqp.Confirmation) {
	c.mu.Lock()
	p, found := c.pending[cf.DeliveryTag]
	delete(c.pending, cf.DeliveryTag)
	o := nacked
	if cf.Ack {
		o = acked
		if n := c.returns[p.id]; n > 0 {
			o = returned
			if n == 1 {
				delete(c.returns, p.id)
			} else {
				c.returns[p.id] = n - 1
			}
		}
	}
	c.mu.Unlock()
	if found {
		p.f(o)
	}
}

// fail tells the publishes still unconfirmed that they are lost, oldest
// first, and refuses new ones.
func (c *confirmer) fail() {
	c.mu.Lock()
	c.closed = true
	tags := make([]uint64, 0, len(c.pending))
	for tag := range c.pending {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	fs := make([]func(outcome), len(tags))
	for i, tag := range tags {
		fs[i] = c.pending[tag].f
	}
	c.pending = nil
	c.mu.Unlock()
	for _, f := range fs {
		f(lost)
	}
}
