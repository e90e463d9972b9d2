package remote

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DeadTask is a task in the dead-letter queue, as [ListDead] reports it.
type DeadTask struct {
	ID     string    // the task's id
	Func   string    // its function's registered name, if it is a twine task
	Reason string    // why the broker dead-lettered it: "delivery_limit", "rejected" (by a worker that could not run it), "expired"
	Time   time.Time // when it was dead-lettered
	Size   int       // the size of its argument, encoded
}

// ListDead returns the tasks in the dead-letter queue of the task queue
// named by [WithQueue], oldest first, and leaves them there. It connects
// within [WithConnectTimeout] and ctx; the queue may be listed while
// workers run. It fails if the queues are not there.
func ListDead(ctx context.Context, opts ...Option) ([]DeadTask, error) {
	cfg := newConfig("ListDead", opts)
	var out []DeadTask
	err := withDeadQueue(ctx, &cfg, "ListDead", func(ch *amqp.Channel, topo topology, n int) error {
		for range n {
			d, ok, err := ch.Get(topo.dead, false)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			out = append(out, deadTask(&d))
		}
		return nil // closing the channel puts them all back, in order
	})
	return out, err
}

// ReplayDead sends the tasks of the dead-letter queue that keep selects (all
// of them, if keep is nil) back to the task queue, and returns how many it
// sent. A replayed task keeps its id and its caller's result queue: its
// result goes to its caller if it is still there (which has had its
// [*DeadLetterError], and drops the result as a duplicate), and is dropped
// otherwise. Its delivery count starts again from zero. Each is published
// with confirms and removed from the dead-letter queue only once confirmed.
// Replay the tasks of a function whose bug has been fixed, for instance,
// for their effects.
func ReplayDead(ctx context.Context, keep func(DeadTask) bool, opts ...Option) (int, error) {
	cfg := newConfig("ReplayDead", opts)
	replayed := 0
	err := withDeadQueue(ctx, &cfg, "ReplayDead", func(ch *amqp.Channel, topo topology, n int) error {
		if err := ch.Confirm(false); err != nil {
			return err
		}
		rets := ch.NotifyReturn(make(chan amqp.Return, 1))
		for range n {
			d, ok, err := ch.Get(topo.dead, false)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if keep != nil && !keep(deadTask(&d)) {
				continue // put back when the channel closes
			}
			if err := replay(ctx, ch, rets, topo, &d); err != nil {
				return err
			}
			if err := d.Ack(false); err != nil {
				return err
			}
			replayed++
		}
		return nil
	})
	return replayed, err
}

// replay publishes a dead task again, as it was first published.
func replay(ctx context.Context, ch *amqp.Channel, rets <-chan amqp.Return, topo topology, d *amqp.Delivery) error {
	h := maps.Clone(d.Headers)
	for _, k := range []string{"x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
		"x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", hDeliveryCount} {
		delete(h, k)
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", topo.queue, true, false, amqp.Publishing{
		Headers:         h,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Priority:        d.Priority,
		CorrelationId:   d.CorrelationId,
		ReplyTo:         d.ReplyTo,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		AppId:           d.AppId,
		Body:            d.Body,
	})
	if err != nil {
		return err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !acked {
		return fmt.Errorf("%w: replaying task %s", ErrNotAccepted, d.MessageId)
	}
	// A return comes before its confirm, and the channel holds one.
	select {
	case <-rets:
		return fmt.Errorf("%w: replaying task %s to queue %q", ErrUnroutable, d.MessageId, topo.queue)
	default:
		return nil
	}
}

// deadTask describes a dead-lettered message.
func deadTask(d *amqp.Delivery) DeadTask {
	t := DeadTask{ID: d.MessageId, Size: len(d.Body)}
	switch d.ContentType {
	case taskType:
		t.Func = d.Type
		if in, prob := readTask(d); prob == nil {
			t.Size = len(in.arg)
		}
	case taskBase:
		// A task of protocol version 1, which named its function in a
		// header: what a worker of this version dead-letters after an
		// upgrade.
		t.Func, _ = d.Headers["twine-func"].(string)
	}
	t.Reason, _ = d.Headers["x-first-death-reason"].(string)
	if deaths, ok := d.Headers["x-death"].([]any); ok && len(deaths) > 0 {
		if death, ok := deaths[0].(amqp.Table); ok {
			t.Time, _ = death["time"].(time.Time)
			if r, ok := death["reason"].(string); ok {
				t.Reason = r
			}
		}
	}
	return t
}

// withDeadQueue connects, checks that the queues are there, and runs f on a channel
// with the number of messages in the dead-letter queue, then closes the
// channel (which puts back what f did not acknowledge) and the connection.
func withDeadQueue(ctx context.Context, cfg *config, what string, f func(ch *amqp.Channel, topo topology, n int) error) error {
	topo := newTopology(cfg)
	conn, err := connect(ctx, cfg, what+" on queue "+cfg.queue, func(ctx context.Context) (*amqp.Connection, error) {
		return dial(ctx, cfg, connName(cfg.queue, what, ""))
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueueDeclarePassive(topo.queue, true, false, false, false, nil); err != nil {
		return fmt.Errorf("remote: no task queue %q: %w", topo.queue, err)
	}
	q, err := ch.QueueDeclarePassive(topo.dead, true, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("remote: no dead-letter queue %q: %w", topo.dead, err)
	}
	err = f(ch, topo, q.Messages)
	if cerr := ch.Close(); cerr != nil && !errors.Is(cerr, amqp.ErrClosed) && err == nil {
		err = cerr
	}
	return err
}

// DeleteQueue deletes the task queue named by [WithQueue], with the tasks in
// it, and its dead-letter queue and exchanges: for tests, and for a queue
// that is no longer used. Workers consuming from it lose their consumer,
// connect again and declare it anew; pools publishing to it fail their
// next tasks with [ErrUnroutable] until they declare it again (on their next
// connection).
func DeleteQueue(ctx context.Context, opts ...Option) error {
	cfg := newConfig("DeleteQueue", opts)
	topo := newTopology(&cfg)
	conn, err := connect(ctx, &cfg, "DeleteQueue on queue "+cfg.queue, func(ctx context.Context) (*amqp.Connection, error) {
		return dial(ctx, &cfg, connName(cfg.queue, "DeleteQueue", ""))
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	for _, q := range []string{topo.queue, topo.dead} {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			return fmt.Errorf("remote: deleting queue %q: %w", q, err)
		}
	}
	for _, x := range []string{topo.dlx, topo.control} {
		if err := ch.ExchangeDelete(x, false, false); err != nil {
			return fmt.Errorf("remote: deleting exchange %q: %w", x, err)
		}
	}
	return nil
}
