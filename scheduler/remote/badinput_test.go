package remote_test

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/remote"
)

// resultMsg makes a result message of status ok by hand, as a worker of
// protocol version 2 sends it: the delivery count (a uvarint) before the
// result.
func resultMsg(id string, result []byte) amqp.Publishing {
	return amqp.Publishing{
		ContentType:   "application/x-twine-result; version=2",
		CorrelationId: id,
		Type:          "ok",
		Body:          append(binary.AppendUvarint(nil, 1), result...),
	}
}

// TestMalformedTasksAreRejected: messages on the task queue that a worker
// cannot run (not a twine task, another protocol version, an argument it
// cannot decode, an unknown function, another signature, a stream function,
// an unknown codec) are logged, answered when they say where to, and
// rejected to the dead-letter queue; the worker goes on serving.
func TestMalformedTasksAreRejected(t *testing.T) {
	url, queue := broker(t)
	w, wlogs, _ := runWorker(t, url, queue)
	ch := rawChannel(t, url)
	answers := queue + ".answers"
	_, err := ch.QueueDeclare(answers, false, true, false, false, nil)
	require.NoError(t, err)
	got, err := ch.Consume(answers, "", true, false, false, false, nil)
	require.NoError(t, err)

	sig := "func(int) (int, error)"
	// A task of protocol version 1, which carried its function, signature
	// and codec in headers.
	wrongVersion := amqp.Publishing{
		ContentType: "application/x-twine-task",
		MessageId:   "bad.version",
		ReplyTo:     answers,
		Headers:     amqp.Table{"twine-version": int32(1), "twine-func": "rt.square", "twine-sig": sig, "twine-codec": "gob"},
		Body:        gobInt(1),
	}
	wrongCodec := task("bad.codec", answers, "rt.square", sig, gobInt(1))
	wrongCodec.ContentEncoding = "json"
	noEnvelope := task("bad.envelope", answers, "rt.square", sig, nil)
	noEnvelope.Body = []byte{0xff}
	bad := []amqp.Publishing{
		{ContentType: "text/plain", Body: []byte("hello")},
		wrongVersion,
		task("bad.arg", answers, "rt.square", sig, []byte{0xff, 0x01, 0x02}),
		task("bad.func", answers, "rt.nothere", sig, gobInt(1)),
		task("bad.sig", answers, "rt.square", "func(string) (int, error)", gobInt(1)),
		task("bad.stream", answers, "rt.stream", "stream(int) (int, error)", gobInt(1)),
		wrongCodec,
		noEnvelope,
	}
	for _, m := range bad {
		require.NoError(t, ch.PublishWithContext(context.Background(), "", queue, true, false, m))
	}
	want := map[string]string{
		"bad.version":  "malformed",
		"bad.arg":      "malformed",
		"bad.func":     "unknown",
		"bad.sig":      "malformed",
		"bad.stream":   "malformed",
		"bad.codec":    "malformed",
		"bad.envelope": "malformed",
	}
	answered := map[string]string{}
	for len(answered) < len(want) {
		select {
		case d := <-got:
			answered[d.CorrelationId] = d.Type
		case <-time.After(waitLimit):
			require.FailNow(t, "missing answers", "got %v", answered)
		}
	}
	assert.Equal(t, want, answered)

	dead := waitDead(t, url, queue, len(bad))
	for _, d := range dead {
		assert.Equal(t, "rejected", d.Reason, d.ID)
	}
	assert.Equal(t, len(bad), wlogs.count("rejecting a task to the dead-letter queue"))
	assert.True(t, wlogs.has("rejecting", "bad.arg", "cannot decode the argument"))
	assert.True(t, wlogs.has("rejecting", "bad.version", "another protocol version"))
	assert.True(t, wlogs.has("rejecting", "bad.envelope", "lacks its function, signature, timeout or codec"))
	assert.Equal(t, int64(len(bad)), w.Stats().Rejected)

	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	assert.Equal(t, 9, must(t, square.Call(p, 3)), "the worker goes on")
}

// TestUnknownFunction: a worker of another build, which lacks the function,
// fails the call with ErrUnknownFunc.
func TestUnknownFunction(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	startWorker(t, url, queue)
	_, err := wait(t, callerOnly.Call(p, 1))
	assert.ErrorIs(t, err, remote.ErrUnknownFunc)
	assert.ErrorContains(t, err, `no function "rt.callerOnly"`)
	assert.Equal(t, 1, len(waitDead(t, url, queue, 1)))
}

// TestTooLarge: an argument too large fails its call at once, unpublished;
// a result too large fails it with the worker's word.
func TestTooLarge(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue, remote.WithMaxMessage(4096))
	runWorker(t, url, queue, remote.WithMaxMessage(4096))

	_, err := wait(t, fail.Call(p, strings.Repeat("x", 5000)))
	assert.ErrorIs(t, err, remote.ErrTooLarge)
	assert.Zero(t, p.Stats().Published)

	_, err = wait(t, big.Call(p, 5000))
	assert.ErrorIs(t, err, remote.ErrTooLarge)
	assert.ErrorContains(t, err, "the limit is 4096")
	assert.Equal(t, 2000, len(must(t, big.Call(p, 2000))))
}

// closedPort returns an address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestBrokerDownAtStart: with no broker, NewPool and Worker.Run log each
// failed attempt, try again within their bound, then fail with
// ErrUnreachable and the cause.
func TestBrokerDownAtStart(t *testing.T) {
	down := "amqp://guest:guest@" + closedPort(t) + "/"
	opts := func(sink *logSink) []remote.Option {
		return []remote.Option{remote.WithURL(down), remote.WithConnectTimeout(300 * time.Millisecond),
			remote.WithReconnect(20*time.Millisecond, 50*time.Millisecond), remote.WithLogger(slog.New(sink))}
	}
	sink := newLogSink()
	_, err := remote.NewPool(context.Background(), scheduler.NewManualClock(), opts(sink)...)
	assert.ErrorIs(t, err, remote.ErrUnreachable)
	assert.ErrorContains(t, err, "dial tcp", "the last failure is said")
	assert.GreaterOrEqual(t, sink.count("cannot connect; retrying"), 2)

	sink = newLogSink()
	err = remote.NewWorker(opts(sink)...).Run(context.Background())
	assert.ErrorIs(t, err, remote.ErrUnreachable)
	assert.GreaterOrEqual(t, sink.count("cannot connect; retrying"), 2)
}

// TestBrokerUpWithinTheBound: a broker that comes up while NewPool tries is
// found.
func TestBrokerUpWithinTheBound(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	px.setRefuse(true)
	sink := newLogSink()
	type made struct {
		p   *remote.Pool
		err error
	}
	done := make(chan made, 1)
	go func() {
		p, err := remote.NewPool(context.Background(), scheduler.NewManualClock(), remote.WithURL(purl), remote.WithQueue(queue),
			fast(), remote.WithLogger(slog.New(sink)))
		done <- made{p, err}
	}()
	sink.waitFor(t, "cannot connect; retrying")
	px.setRefuse(false)
	m := <-done
	require.NoError(t, m.err)
	require.NoError(t, m.p.Close(context.Background()))
}

// TestCredentialsRefused: a refused login fails at once, without retrying.
func TestCredentialsRefused(t *testing.T) {
	good, _ := broker(t)
	u, err := url.Parse(good)
	require.NoError(t, err)
	u.User = url.UserPassword("guest", "not-the-password")
	sink := newLogSink()
	opts := []remote.Option{remote.WithURL(u.String()), remote.WithLogger(slog.New(sink))}
	_, err = remote.NewPool(context.Background(), scheduler.NewManualClock(), opts...)
	assert.ErrorIs(t, err, remote.ErrAccessRefused)
	assert.NotContains(t, err.Error(), "not-the-password")
	err = remote.NewWorker(opts...).Run(context.Background())
	assert.ErrorIs(t, err, remote.ErrAccessRefused)
	assert.Zero(t, sink.count("retrying"))
}

// TestTopologyMismatch: a task queue that exists with other settings (a
// classic queue where a quorum queue is wanted) is reported, not retried.
func TestTopologyMismatch(t *testing.T) {
	url, queue := broker(t)
	_, err := rawChannel(t, url).QueueDeclare(queue, true, false, false, false, nil)
	require.NoError(t, err)
	_, err = remote.NewPool(context.Background(), scheduler.NewManualClock(), remote.WithURL(url), remote.WithQueue(queue), quiet())
	assert.ErrorIs(t, err, remote.ErrTopology)
	assert.ErrorContains(t, err, "inequivalent arg")
	err = remote.NewWorker(remote.WithURL(url), remote.WithQueue(queue), quiet()).Run(context.Background())
	assert.ErrorIs(t, err, remote.ErrTopology)
}

// TestMisuse: bad options and misuse panic, naming the package and the
// function.
func TestMisuse(t *testing.T) {
	for _, tc := range []struct {
		want string
		f    func()
	}{
		{"remote: NewPool: nil Loop", func() { _, _ = remote.NewPool(context.Background(), nil) }},
		{"remote: NewPool: nil Option", func() { _, _ = remote.NewPool(context.Background(), scheduler.NewManualClock(), nil) }},
		{"remote: Pool.RunCall: nil Pool", func() { square.Call((*remote.Pool)(nil), 1) }},
		{"remote: WithURL: empty URL", func() { remote.WithURL("") }},
		{`remote: WithQueue("amq.x")`, func() { remote.WithQueue("amq.x") }},
		{"remote: WithMaxInFlight(0)", func() { remote.WithMaxInFlight(0) }},
		{"remote: WithConcurrency(70000)", func() { remote.WithConcurrency(70000) }},
		{"remote: WithDeliveryLimit(0)", func() { remote.WithDeliveryLimit(0) }},
		{"remote: WithHeartbeat(10ms)", func() { remote.WithHeartbeat(10 * time.Millisecond) }},
		{"remote: WithReconnect(2s, 1s)", func() { remote.WithReconnect(2*time.Second, time.Second) }},
		{"remote: WithMaxMessage(10)", func() { remote.WithMaxMessage(10) }},
		{"remote: WithCodec: nil Codec", func() { remote.WithCodec(nil) }},
	} {
		t.Run(tc.want, func(t *testing.T) {
			defer func() {
				v := recover()
				require.NotNil(t, v, "no panic")
				assert.Contains(t, v.(string), tc.want)
			}()
			tc.f()
		})
	}
}

// TestRunTwice: a Worker runs once.
func TestRunTwice(t *testing.T) {
	w := remote.NewWorker(remote.WithURL("amqp://guest:guest@"+closedPort(t)+"/"), remote.WithConnectTimeout(time.Millisecond), quiet())
	err := w.Run(context.Background())
	require.True(t, errors.Is(err, remote.ErrUnreachable), err)
	assert.PanicsWithValue(t, "remote: Worker.Run called twice", func() { _ = w.Run(context.Background()) })
}
