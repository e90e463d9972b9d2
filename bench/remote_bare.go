package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The bare amqp091-go program: the remote suite's floor. It does only what
// scheduler/remote's guarantees cost, with nothing of twine: a task is 16
// bytes (two numbers) published persistent, with publisher confirms, to a
// quorum queue; a worker connection consumes it with manual acks (its
// prefetch the window), publishes the 8-byte sum persistent with confirms to
// a durable reply queue, and acks the task once that publish is confirmed;
// the caller consumes the results with manual acks, many at a time.

// bare is the program's two connections and its queues.
type bare struct {
	caller, worker *amqp.Connection
	pub, cons      *amqp.Channel
	results        <-chan amqp.Delivery
	queue, reply   string
	done           chan struct{} // closed when the worker's goroutines end
}

// startBare declares the queues and starts the worker side, which takes up
// to window tasks at a time.
func startBare(url, name string, window int) (b *bare, err error) {
	b = &bare{queue: name, reply: name + ".reply", done: make(chan struct{})}
	if b.caller, err = amqp.Dial(url); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.caller.Close()
			if b.worker != nil {
				b.worker.Close()
			}
		}
	}()
	if b.pub, err = b.caller.Channel(); err != nil {
		return nil, err
	}
	if _, err = b.pub.QueueDeclare(b.queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}); err != nil {
		return nil, err
	}
	if _, err = b.pub.QueueDeclare(b.reply, true, false, false, false, nil); err != nil {
		return nil, err
	}
	if err = b.pub.Confirm(false); err != nil {
		return nil, err
	}
	// The confirms are counted by the library; the caller waits for the
	// results, which come after them.
	go drainConfirms(b.pub.NotifyPublish(make(chan amqp.Confirmation, window+64)))
	if b.cons, err = b.caller.Channel(); err != nil {
		return nil, err
	}
	if err = b.cons.Qos(2*window, 0, false); err != nil {
		return nil, err
	}
	if b.results, err = b.cons.Consume(b.reply, "", false, true, false, false, nil); err != nil {
		return nil, err
	}

	if b.worker, err = amqp.Dial(url); err != nil {
		return nil, err
	}
	tasks, err := b.worker.Channel()
	if err != nil {
		return nil, err
	}
	if err = tasks.Qos(window, 0, false); err != nil {
		return nil, err
	}
	deliveries, err := tasks.Consume(b.queue, "", false, false, false, false, nil)
	if err != nil {
		return nil, err
	}
	res, err := b.worker.Channel()
	if err != nil {
		return nil, err
	}
	if err = res.Confirm(false); err != nil {
		return nil, err
	}
	type pending struct {
		dc *amqp.DeferredConfirmation
		d  amqp.Delivery
	}
	acks := make(chan pending, window)
	go func() {
		defer close(acks)
		var sum [8]byte
		for d := range deliveries {
			binary.LittleEndian.PutUint64(sum[:], binary.LittleEndian.Uint64(d.Body)+binary.LittleEndian.Uint64(d.Body[8:]))
			dc, err := res.PublishWithDeferredConfirm("", b.reply, false, false, amqp.Publishing{
				DeliveryMode:  amqp.Persistent,
				CorrelationId: d.MessageId,
				Body:          sum[:],
			})
			if err != nil {
				return
			}
			acks <- pending{dc, d}
		}
	}()
	go func() {
		defer close(b.done)
		// Confirms come in order: ack each task once its result's is in.
		for p := range acks {
			if p.dc.Wait() {
				_ = p.d.Ack(false)
			}
		}
	}()
	return b, nil
}

func drainConfirms(c <-chan amqp.Confirmation) {
	for range c {
	}
}

// publish publishes the task x + y.
func (b *bare) publish(id string, x, y uint64) error {
	var body [16]byte
	binary.LittleEndian.PutUint64(body[:], x)
	binary.LittleEndian.PutUint64(body[8:], y)
	return b.pub.PublishWithContext(context.Background(), "", b.queue, false, false, amqp.Publishing{
		DeliveryMode: amqp.Persistent,
		MessageId:    id,
		ReplyTo:      b.reply,
		Body:         body[:],
	})
}

// throughput publishes n tasks, window at a time, and returns once every
// result is in.
func (b *bare) throughput(n, window int) error {
	slots := make(chan struct{}, window)
	failed := make(chan error, 1)
	go func() {
		for i := range n {
			slots <- struct{}{}
			if err := b.publish("t", uint64(i), 1); err != nil {
				failed <- err
				return
			}
		}
	}()
	for got := 0; got < n; {
		select {
		case d, ok := <-b.results:
			if !ok {
				return errors.New("bare: the result consumer ended")
			}
			got++
			<-slots
			if got%64 == 0 || got == n {
				if err := d.Ack(true); err != nil {
					return err
				}
			}
		case err := <-failed:
			return err
		case <-time.After(callWait):
			return errors.New("bare: a result never came")
		}
	}
	return nil
}

// roundTrips makes n calls one at a time and returns their round trips.
func (b *bare) roundTrips(n int) ([]time.Duration, error) {
	rts := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		if err := b.publish("r", uint64(i), 1); err != nil {
			return nil, err
		}
		select {
		case d, ok := <-b.results:
			if !ok {
				return nil, errors.New("bare: the result consumer ended")
			}
			rts[i] = time.Since(start)
			if got := binary.LittleEndian.Uint64(d.Body); got != uint64(i)+1 {
				return nil, fmt.Errorf("bare: %d + 1 = %d", i, got)
			}
			if err := d.Ack(false); err != nil {
				return nil, err
			}
		case <-time.After(callWait):
			return nil, errors.New("bare: a result never came")
		}
	}
	return rts, nil
}

// close deletes the queues and closes the connections.
func (b *bare) close() error {
	_, err1 := b.pub.QueueDelete(b.queue, false, false, false)
	_, err2 := b.pub.QueueDelete(b.reply, false, false, false)
	err := errors.Join(err1, err2, b.worker.Close(), b.caller.Close())
	<-b.done
	return err
}

// medianDuration returns the median of ds, which it sorts.
func medianDuration(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
