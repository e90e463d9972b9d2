package remote

import (
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// topology names the broker's objects that a task queue needs, all derived
// from its name:
//
//	NAME          quorum queue of tasks, with a delivery limit, dead-lettering
//	              at least once to NAME.dlx
//	NAME.dlx      fanout exchange of the tasks dead-lettered from NAME
//	NAME.dead     durable queue bound to NAME.dlx: the dead-letter queue
//	NAME.control  fanout exchange on which callers tell workers to drop or
//	              cancel tasks; each worker binds a queue of its own to it
//	NAME.reply.ID durable queue of a caller's results, deleted by the broker
//	              when its caller has been gone for a while
type topology struct {
	queue, dlx, dead, control string
	limit                     int
}

func newTopology(cfg *config) topology {
	q := cfg.queue
	return topology{queue: q, dlx: q + ".dlx", dead: q + ".dead", control: q + ".control", limit: cfg.deliveryLimit}
}

func (t topology) replyQueue(caller string) string { return t.queue + ".reply." + caller }

// declare declares the task queue and what it dead-letters to, and the
// control exchange. It is idempotent: callers and workers all declare it,
// in whatever order they come, on each connection.
func (t topology) declare(ch *amqp.Channel) error {
	if err := ch.ExchangeDeclare(t.dlx, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		return topologyError("exchange", t.dlx, err)
	}
	if _, err := ch.QueueDeclare(t.dead, true, false, false, false, nil); err != nil {
		return topologyError("queue", t.dead, err)
	}
	if err := ch.QueueBind(t.dead, "", t.dlx, false, nil); err != nil {
		return topologyError("binding of queue", t.dead, err)
	}
	if _, err := ch.QueueDeclare(t.queue, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg:        amqp.QueueTypeQuorum,
		"x-delivery-limit":       t.limit,
		"x-dead-letter-exchange": t.dlx,
		// At-least-once dead-lettering needs the queue to refuse
		// publishes when full rather than drop its oldest messages.
		"x-dead-letter-strategy": "at-least-once",
		amqp.QueueOverflowArg:    amqp.QueueOverflowRejectPublish,
	}); err != nil {
		return topologyError("queue", t.queue, err)
	}
	if err := ch.ExchangeDeclare(t.control, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		return topologyError("exchange", t.control, err)
	}
	return nil
}

// declareReply declares a caller's result queue. It reports whether the
// queue was there already; when it was not, the results sent to it before
// are lost. A passive declaration that fails closes the channel: the
// caller opens it again.
func declareReply(conn *amqp.Connection, name string, expiry time.Duration) (ch *amqp.Channel, existed bool, err error) {
	ch, err = conn.Channel()
	if err != nil {
		return nil, false, err
	}
	if _, err = ch.QueueDeclarePassive(name, true, false, false, false, nil); err == nil {
		existed = true
	} else {
		var ae *amqp.Error
		if !errors.As(err, &ae) || ae.Code != amqp.NotFound {
			return nil, false, err
		}
		if ch, err = conn.Channel(); err != nil {
			return nil, false, err
		}
	}
	// Declared again even when it exists, so that a queue made by another
	// build with other arguments is reported.
	_, err = ch.QueueDeclare(name, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeClassic,
		amqp.QueueTTLArg:  expiry.Milliseconds(),
	})
	if err != nil {
		_ = ch.Close()
		return nil, false, topologyError("queue", name, err)
	}
	return ch, existed, nil
}

// topologyError explains a refused declaration; the broker's refusals
// (other settings, a reserved name) wrap [ErrTopology].
func topologyError(what, name string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && (ae.Code == amqp.PreconditionFailed || ae.Code == amqp.AccessRefused || ae.Code == amqp.NotAllowed) {
		return fmt.Errorf("%w: %s %q: %s", ErrTopology, what, name, ae.Reason)
	}
	return fmt.Errorf("remote: declaring %s %q: %w", what, name, err)
}
