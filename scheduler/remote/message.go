package remote

import (
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// The wire. A task is a persistent message on the task queue:
//
//	content-type   application/x-twine-task
//	message-id     the task's id: the caller's id, a dot, a sequence number
//	reply-to       the caller's result queue
//	headers        twine-version (1), twine-func (the registered name),
//	               twine-sig (its signature), twine-codec (the codec's name),
//	               twine-timeout-ms (how long the caller waits, if it does not
//	               wait for ever)
//	body           the argument, encoded by the codec alone
//
// A result is a persistent message on the caller's result queue:
//
//	content-type   application/x-twine-result
//	message-id,
//	correlation-id the task's id
//	headers        twine-version, twine-status (one of the status values
//	               below), twine-deliveries (the task's delivery count,
//	               this one included), twine-stack (for a panic)
//	body           the result, encoded, for status ok; the error's text
//	               otherwise
//
// A cancellation is a transient message on the control exchange, whose
// message-id names the task to drop or cancel.
const (
	taskType        = "application/x-twine-task"
	resultType      = "application/x-twine-result"
	cancelType      = "application/x-twine-cancel"
	protocolVersion = 1

	hVersion    = "twine-version"
	hFunc       = "twine-func"
	hSig        = "twine-sig"
	hCodec      = "twine-codec"
	hTimeout    = "twine-timeout-ms"
	hStatus     = "twine-status"
	hDeliveries = "twine-deliveries"
	hStack      = "twine-stack"
	hDeadQueue  = "twine-dead-queue"

	// The broker's count of a quorum queue message's earlier deliveries.
	hDeliveryCount = "x-delivery-count"
)

// The statuses of a result.
const (
	statusOK        = "ok"
	statusError     = "error"     // the function returned an error
	statusPanic     = "panic"     // the function panicked
	statusTimeout   = "timeout"   // the worker's time limit passed
	statusUnknown   = "unknown"   // no such function in the worker
	statusMalformed = "malformed" // the worker could not read the task
	statusTooLarge  = "too-large" // the result exceeds the largest message
	statusDead      = "dead"      // delivered too many times
)

// maxStack bounds the stack of a panic sent back, which travels in a header
// and so must fit in one frame with the other properties.
const maxStack = 16 << 10

// taskHeaders returns the headers of the tasks of a function; they are the
// same for each of its calls from one pool, so pools keep them.
func taskHeaders(c *process.Call, codec string, timeout time.Duration) amqp.Table {
	h := amqp.Table{
		hVersion: int32(protocolVersion),
		hFunc:    c.Func(),
		hSig:     c.Signature(),
		hCodec:   codec,
	}
	if timeout > 0 {
		h[hTimeout] = timeout.Milliseconds()
	}
	return h
}

// resultMessage makes a result message.
func resultMessage(id, status string, deliveries int, body []byte) amqp.Publishing {
	return amqp.Publishing{
		ContentType:   resultType,
		DeliveryMode:  amqp.Persistent,
		MessageId:     id,
		CorrelationId: id,
		Headers: amqp.Table{
			hVersion:    int32(protocolVersion),
			hStatus:     status,
			hDeliveries: int32(deliveries),
		},
		Body: body,
	}
}

// resultError is the error that a result message of status other than ok
// stands for; fn is the task's function.
func resultError(fn string, d *amqp.Delivery) error {
	status, _ := d.Headers[hStatus].(string)
	text := string(d.Body)
	switch status {
	case statusOK:
		return nil
	case statusError:
		return &process.RemoteError{Func: fn, Text: text}
	case statusPanic:
		stack, _ := d.Headers[hStack].([]byte)
		return &deferred.PanicError{Value: text, Stack: stack}
	case statusTimeout:
		return fmt.Errorf("%w: %s", ErrTimeout, text)
	case statusUnknown:
		return fmt.Errorf("%w: %s", ErrUnknownFunc, text)
	case statusMalformed:
		return fmt.Errorf("%w: %s", ErrMalformed, text)
	case statusTooLarge:
		return fmt.Errorf("%w: %s", ErrTooLarge, text)
	case statusDead:
		n, _ := headerInt(d.Headers, hDeliveries)
		q, _ := d.Headers[hDeadQueue].(string)
		return &DeadLetterError{ID: d.CorrelationId, Func: fn, Deliveries: int(n), Queue: q}
	}
	return fmt.Errorf("%w: a result of unknown status %q: %s", ErrMalformed, status, text)
}

// headerInt reads an integer header, of whichever integer type the broker
// or the publisher gave it.
func headerInt(h amqp.Table, key string) (int64, bool) {
	switch v := h[key].(type) {
	case int8:
		return int64(v), true
	case uint8:
		return int64(v), true
	case int16:
		return int64(v), true
	case uint16:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}

// incoming is a task as a worker reads it.
type incoming struct {
	id, replyTo, fn, sig, codec string
	timeout                     time.Duration
	deliveries                  int // this one included
}

// problem is why a worker does not run a task: the status it answers with
// (none if it cannot answer: the message is not a task from a caller), and
// the text.
type problem struct {
	status, text string
}

func (p *problem) Error() string { return p.text }

// readTask reads the envelope of a task. A message that is not a twine task
// at all, or that comes from another protocol version, is reported with no
// status when it cannot be answered.
func readTask(d *amqp.Delivery) (*incoming, *problem) {
	in := &incoming{id: d.MessageId, replyTo: d.ReplyTo, deliveries: 1}
	if n, ok := headerInt(d.Headers, hDeliveryCount); ok {
		in.deliveries = int(n) + 1
	}
	answer := statusMalformed
	if in.id == "" || in.replyTo == "" {
		answer = "" // nowhere to answer
	}
	if d.ContentType != taskType {
		return in, &problem{answer, fmt.Sprintf("not a twine task: content type %q, app %q, type %q", d.ContentType, d.AppId, d.Type)}
	}
	if v, ok := headerInt(d.Headers, hVersion); !ok || v != protocolVersion {
		return in, &problem{answer, fmt.Sprintf("task of protocol version %v; this worker speaks version %d", d.Headers[hVersion], protocolVersion)}
	}
	if answer == "" {
		return in, &problem{"", "task without a message id or a reply-to queue"}
	}
	var ok1, ok2, ok3 bool
	in.fn, ok1 = d.Headers[hFunc].(string)
	in.sig, ok2 = d.Headers[hSig].(string)
	in.codec, ok3 = d.Headers[hCodec].(string)
	if !ok1 || !ok2 || !ok3 {
		return in, &problem{statusMalformed, fmt.Sprintf("task %s lacks its function, signature or codec", in.id)}
	}
	if ms, ok := headerInt(d.Headers, hTimeout); ok && ms > 0 {
		in.timeout = time.Duration(ms) * time.Millisecond
	}
	return in, nil
}

// messageEncoder returns an encoder of c whose outputs each decode alone.
func messageEncoder(c process.Codec) process.Encoder {
	if mc, ok := c.(process.MessageCodec); ok {
		return mc.MessageEncoder()
	}
	return c.NewEncoder()
}

// messageDecoder returns a decoder of c for one output of messageEncoder.
func messageDecoder(c process.Codec) process.Decoder {
	if mc, ok := c.(process.MessageCodec); ok {
		return mc.MessageDecoder()
	}
	return c.NewDecoder()
}

// taskID makes the id of a caller's n-th task.
func taskID(caller string, n uint64) string {
	return caller + "." + strconv.FormatUint(n, 10)
}
