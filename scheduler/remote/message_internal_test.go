package remote

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

var wireSquare = process.Register("rt.wireSquare", func(_ context.Context, n int) (int, error) { return n * n, nil })

// runnerFunc is a process.Runner that hands each call to a function.
type runnerFunc func(c *process.Call)

func (f runnerFunc) RunCall(c *process.Call) { f(c) }

// delivered turns a publishing into the delivery a consumer would get.
func delivered(m amqp.Publishing) *amqp.Delivery {
	return &amqp.Delivery{
		Headers: m.Headers, ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		CorrelationId: m.CorrelationId, ReplyTo: m.ReplyTo, MessageId: m.MessageId,
		Type: m.Type, Body: m.Body,
	}
}

func TestATaskCrossesWithoutHeaders(t *testing.T) {
	ran := false
	r := runnerFunc(func(c *process.Call) {
		ran = true
		defer c.Settle(nil)
		body, err := c.AppendArg(taskEnvelope(c, 1500*time.Millisecond), process.Gob().NewEncoder())
		require.NoError(t, err)
		m := taskMessage(c, "c.1", "c.reply", "gob", body) // as a Pool makes it
		assert.Nil(t, m.Headers)
		assert.Equal(t, uint8(amqp.Persistent), m.DeliveryMode)
		in, prob := readTask(delivered(m))
		require.Nil(t, prob)
		assert.Equal(t, "rt.wireSquare", in.fn)
		assert.Equal(t, c.Signature(), in.sig)
		assert.Equal(t, "func(int) (int, error)", in.sig)
		assert.Equal(t, "gob", in.codec)
		assert.Equal(t, 1500*time.Millisecond, in.timeout)
		assert.Equal(t, "c.1", in.id)
		assert.Equal(t, "c.reply", in.replyTo)
		assert.Equal(t, 1, in.deliveries)
		f, _ := process.Lookup(in.fn)
		arg, err := f.DecodeArg(in.arg, process.Gob().NewDecoder())
		require.NoError(t, err)
		assert.Equal(t, 7, *arg.(*int))
	})
	wireSquare.Call(r, 7)
	assert.True(t, ran)
}

func TestARedeliveredTaskCountsItsDeliveries(t *testing.T) {
	m := amqp.Publishing{ContentType: taskType, ContentEncoding: "gob", MessageId: "c.1", ReplyTo: "q", Type: "f",
		Headers: amqp.Table{hDeliveryCount: int64(2)}, Body: []byte{0, 0}}
	in, prob := readTask(delivered(m))
	require.Nil(t, prob)
	assert.Equal(t, 3, in.deliveries)
	assert.Zero(t, in.timeout, "0 waits for ever")
	assert.Empty(t, in.arg)
}

func TestTasksThatCannotBeRead(t *testing.T) {
	for _, tc := range []struct {
		name, status, text string
		m                  amqp.Publishing
	}{
		{"not ours", "", "not a twine task", amqp.Publishing{ContentType: "text/plain", Body: []byte("hi")}},
		{"version 1", statusMalformed, "another protocol version", amqp.Publishing{ContentType: taskBase, MessageId: "c.1", ReplyTo: "q"}},
		{"version 3", statusMalformed, "another protocol version", amqp.Publishing{ContentType: taskBase + "; version=3", MessageId: "c.1", ReplyTo: "q"}},
		{"nowhere to answer", "", "without a message id", amqp.Publishing{ContentType: taskType, Type: "f", ContentEncoding: "gob", Body: []byte{0, 0}}},
		{"no function", statusMalformed, "lacks its function", amqp.Publishing{ContentType: taskType, MessageId: "c.1", ReplyTo: "q", ContentEncoding: "gob", Body: []byte{0, 0}}},
		{"no codec", statusMalformed, "lacks its function", amqp.Publishing{ContentType: taskType, MessageId: "c.1", ReplyTo: "q", Type: "f", Body: []byte{0, 0}}},
		{"empty body", statusMalformed, "lacks its function", amqp.Publishing{ContentType: taskType, MessageId: "c.1", ReplyTo: "q", Type: "f", ContentEncoding: "gob"}},
		{"signature cut short", statusMalformed, "lacks its function", amqp.Publishing{ContentType: taskType, MessageId: "c.1", ReplyTo: "q", Type: "f", ContentEncoding: "gob", Body: []byte{9, 'f'}}},
		{"no timeout", statusMalformed, "lacks its function", amqp.Publishing{ContentType: taskType, MessageId: "c.1", ReplyTo: "q", Type: "f", ContentEncoding: "gob", Body: []byte{1, 'f'}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, prob := readTask(delivered(tc.m))
			require.NotNil(t, prob)
			assert.Equal(t, tc.status, prob.status)
			assert.Contains(t, prob.text, tc.text)
		})
	}
}

func TestResultsCrossWithoutHeaders(t *testing.T) {
	ok := resultMessage("c.1", 2, []byte("payload"))
	assert.Nil(t, ok.Headers)
	assert.Equal(t, "c.1", ok.MessageId, "the confirmer names returned results by it")
	assert.Equal(t, "c.1", ok.CorrelationId)
	res, err := readResult(delivered(ok))
	require.NoError(t, err)
	assert.Equal(t, 2, res.deliveries)
	assert.Equal(t, []byte("payload"), res.payload)
	assert.NoError(t, res.err("f", "c.1"))

	panicked, err := readResult(delivered(errorMessage("c.1", statusPanic, 1, "boom", []byte("stack"))))
	require.NoError(t, err)
	var pe *deferred.PanicError
	require.ErrorAs(t, panicked.err("f", "c.1"), &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.Equal(t, []byte("stack"), pe.Stack)

	dead, err := readResult(delivered(errorMessage("c.1", statusDead, 4, "delivered 4 times", []byte("q.dead"))))
	require.NoError(t, err)
	var de *DeadLetterError
	require.ErrorAs(t, dead.err("f", "c.1"), &de)
	assert.Equal(t, DeadLetterError{ID: "c.1", Func: "f", Deliveries: 4, Queue: "q.dead"}, *de)

	failed, err := readResult(delivered(errorMessage("c.1", statusError, 1, "no", nil)))
	require.NoError(t, err)
	var re *process.RemoteError
	require.ErrorAs(t, failed.err("f", "c.1"), &re)
	assert.Equal(t, "no", re.Text)

	for _, body := range [][]byte{nil, {0xff}} {
		_, err := readResult(&amqp.Delivery{Type: statusOK, Body: body})
		assert.True(t, errors.Is(err, ErrMalformed), "%x: %v", body, err)
	}
	_, err = readResult(&amqp.Delivery{Type: statusError, Body: []byte{1, 5, 'a'}})
	assert.True(t, errors.Is(err, ErrMalformed), "an error's text cut short: %v", err)
	odd, err := readResult(&amqp.Delivery{Type: "odd", Body: []byte{1, 1, 'a'}})
	require.NoError(t, err)
	assert.True(t, errors.Is(odd.err("f", "c.1"), ErrMalformed), "an unknown status")
}

func TestTimeoutsCrossInWholeMillisecondsRoundedUp(t *testing.T) {
	for _, tc := range []struct {
		timeout, want time.Duration
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Microsecond, time.Millisecond},
		{1500 * time.Microsecond, 2 * time.Millisecond},
		{3 * time.Second, 3 * time.Second},
	} {
		r := runnerFunc(func(c *process.Call) {
			defer c.Settle(nil)
			m := taskMessage(c, "c.1", "q", "gob", taskEnvelope(c, tc.timeout))
			in, prob := readTask(delivered(m))
			require.Nil(t, prob)
			assert.Equal(t, tc.want, in.timeout, "%v", tc.timeout)
		})
		wireSquare.Call(r, 1)
	}
}

func TestTheContentTypesNameTheProtocolVersion(t *testing.T) {
	version := "; version=" + strconv.Itoa(protocolVersion)
	assert.Equal(t, taskBase+version, taskType)
	assert.Equal(t, resultBase+version, resultType)
}
