package remote

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// The wire. A task is a persistent message on the task queue:
//
//	content-type     application/x-twine-task; version=2
//	message-id       the task's id: the caller's id, a dot, a sequence number
//	reply-to         the caller's result queue
//	type             the function's registered name
//	content-encoding the codec's name
//	body             the envelope: the function's signature (a uvarint
//	                 length, then its bytes) and how long the caller waits in
//	                 milliseconds (a uvarint, 0 if it waits for ever); then
//	                 the argument, encoded by the codec alone
//
// A result is a persistent message on the caller's result queue:
//
//	content-type     application/x-twine-result; version=2
//	message-id,
//	correlation-id   the task's id
//	type             one of the status values below
//	body             the task's delivery count, this one included (a
//	                 uvarint); then the result, encoded, for status ok;
//	                 otherwise the error's text (a uvarint length, then its
//	                 bytes) and what the status adds: a panic's stack, the
//	                 dead-letter queue of a task delivered too many times
//
// Everything the protocol needs is in the message's basic properties or
// its body, none in headers: an AMQP client reads and writes a header
// table field by field, with an allocation for each, and the broker parses
// it too, which cost a tenth of a tiny task's processor time. The version
// rides in the content type, which a worker of another version does not
// take for its own.
//
// A cancellation is a transient message on the control exchange, whose
// message-id names the task to drop or cancel.
const (
	taskType        = taskBase + "; version=2"
	resultType      = resultBase + "; version=2"
	taskBase        = "application/x-twine-task"
	resultBase      = "application/x-twine-result"
	cancelType      = "application/x-twine-cancel"
	protocolVersion = 2

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

// maxStack bounds the stack of a panic sent back.
const maxStack = 16 << 10

// taskEnvelope returns the start of the body of a function's tasks: its
// signature and the caller's timeout, in whole milliseconds rounded up (0
// means none). It is the same for each of the function's calls from one
// pool, so pools keep it.
func taskEnvelope(c *process.Call, timeout time.Duration) []byte {
	b := appendString(nil, c.Signature())
	var ms uint64
	if timeout > 0 {
		ms = uint64((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	return binary.AppendUvarint(b, ms)
}

// taskMessage makes the message of task id of c's function, from its
// pool's result queue, codec and body (the envelope, then the argument).
func taskMessage(c *process.Call, id, replyTo, codec string, body []byte) amqp.Publishing {
	return amqp.Publishing{
		ContentType:     taskType,
		ContentEncoding: codec,
		DeliveryMode:    amqp.Persistent,
		MessageId:       id,
		ReplyTo:         replyTo,
		Type:            c.Func(),
		Body:            body,
	}
}

// resultMessage makes a result message of status ok; payload is the
// encoded result.
func resultMessage(id string, deliveries int, payload []byte) amqp.Publishing {
	body := make([]byte, 0, binary.MaxVarintLen64+len(payload))
	body = binary.AppendUvarint(body, uint64(max(deliveries, 0)))
	return resultOf(id, statusOK, append(body, payload...))
}

// errorMessage makes a result message of a status other than ok: the
// error's text, and what the status adds (a panic's stack, a dead-letter
// queue).
func errorMessage(id, status string, deliveries int, text string, extra []byte) amqp.Publishing {
	body := make([]byte, 0, 2*binary.MaxVarintLen64+len(text)+len(extra))
	body = binary.AppendUvarint(body, uint64(max(deliveries, 0)))
	body = appendString(body, text)
	return resultOf(id, status, append(body, extra...))
}

// resultOf makes a result message with its body. Its message id is the
// task's, as its correlation id is: the worker's confirmer names a
// publish that the broker returns by it.
func resultOf(id, status string, body []byte) amqp.Publishing {
	return amqp.Publishing{
		ContentType:   resultType,
		DeliveryMode:  amqp.Persistent,
		MessageId:     id,
		CorrelationId: id,
		Type:          status,
		Body:          body,
	}
}

// appendString appends s to b, its length first.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readString reads what appendString appended at the start of b, and
// returns it and what follows.
func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// result is a result message as the caller reads it.
type result struct {
	status     string
	deliveries int
	payload    []byte // the encoded result, for status ok
	text       string // the error's text, otherwise
	extra      []byte // and what its status adds
}

// readResult reads a result message.
func readResult(d *amqp.Delivery) (result, error) {
	r := result{status: d.Type}
	n, k := binary.Uvarint(d.Body)
	if k <= 0 {
		return r, fmt.Errorf("%w: a result without its delivery count", ErrMalformed)
	}
	r.deliveries, r.payload = int(min(n, math.MaxInt32)), d.Body[k:]
	if r.status == statusOK {
		return r, nil
	}
	var ok bool
	if r.text, r.extra, ok = readString(r.payload); !ok {
		return r, fmt.Errorf("%w: a result of status %q without its text", ErrMalformed, r.status)
	}
	r.payload = nil
	return r, nil
}

// err is the error that a result of status other than ok stands for; fn is
// the task's function and id its id.
func (r *result) err(fn, id string) error {
	switch r.status {
	case statusOK:
		return nil
	case statusError:
		return &process.RemoteError{Func: fn, Text: r.text}
	case statusPanic:
		return &deferred.PanicError{Value: r.text, Stack: r.extra}
	case statusTimeout:
		return fmt.Errorf("%w: %s", ErrTimeout, r.text)
	case statusUnknown:
		return fmt.Errorf("%w: %s", ErrUnknownFunc, r.text)
	case statusMalformed:
		return fmt.Errorf("%w: %s", ErrMalformed, r.text)
	case statusTooLarge:
		return fmt.Errorf("%w: %s", ErrTooLarge, r.text)
	case statusDead:
		return &DeadLetterError{ID: id, Func: fn, Deliveries: r.deliveries, Queue: string(r.extra)}
	}
	return fmt.Errorf("%w: a result of unknown status %q: %s", ErrMalformed, r.status, r.text)
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
	deliveries                  int    // this one included
	arg                         []byte // the encoded argument
	tag                         uint64 // the delivery's tag on its channel
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
	in := &incoming{id: d.MessageId, replyTo: d.ReplyTo, fn: d.Type, codec: d.ContentEncoding, deliveries: 1, tag: d.DeliveryTag}
	if n, ok := headerInt(d.Headers, hDeliveryCount); ok {
		in.deliveries = int(n) + 1
	}
	answer := statusMalformed
	if in.id == "" || in.replyTo == "" {
		answer = "" // nowhere to answer
	}
	switch {
	case d.ContentType == taskType:
	case strings.HasPrefix(d.ContentType, taskBase):
		return in, &problem{answer, fmt.Sprintf("task of another protocol version (content type %q); this worker speaks version %d", d.ContentType, protocolVersion)}
	default:
		return in, &problem{answer, fmt.Sprintf("not a twine task: content type %q, app %q, type %q", d.ContentType, d.AppId, d.Type)}
	}
	if answer == "" {
		return in, &problem{"", "task without a message id or a reply-to queue"}
	}
	sig, rest, ok := readString(d.Body)
	ms, k := binary.Uvarint(rest)
	if !ok || k <= 0 || in.fn == "" || in.codec == "" {
		return in, &problem{statusMalformed, fmt.Sprintf("task %s lacks its function, signature, timeout or codec", in.id)}
	}
	in.sig, in.arg = sig, rest[k:]
	if ms > 0 {
		in.timeout = time.Duration(min(ms, uint64(math.MaxInt64/time.Millisecond))) * time.Millisecond
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
