package remote

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// connName names a connection for the broker's listings: "twine QUEUE
// ROLE ID", so that the connections of one queue share a prefix.
func connName(queue, role, id string) string {
	if id == "" {
		return "twine " + queue + " " + role
	}
	return "twine " + queue + " " + role + " " + id
}

// dial opens one connection to the broker, named for the broker's listings
// (rabbitmqctl list_connections client_properties, the management UI).
// A refused login or virtual host wraps [ErrAccessRefused].
func dial(ctx context.Context, cfg *config, name string) (*amqp.Connection, error) {
	conn, _, err := dialCorked(ctx, cfg, name)
	return conn, err
}

// dialCorked is dial, and returns the connection's socket too, which can
// hold writes back to send them together.
func dialCorked(ctx context.Context, cfg *config, name string) (*amqp.Connection, *corkConn, error) {
	var cc *corkConn
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(name)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := amqp.DialConfig(cfg.url, amqp.Config{
		Heartbeat:  cfg.heartbeat,
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bounds the handshake, as amqp091-go's own dialer does;
			// DialConfig clears the deadline once it is done.
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				_ = c.Close()
				return nil, err
			}
			cc = &corkConn{Conn: c}
			return cc, nil
		},
	})
	if err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && (ae.Code == amqp.AccessRefused || ae.Code == amqp.NotAllowed) {
			return nil, nil, fmt.Errorf("%w at %s: %s", ErrAccessRefused, redact(cfg.url), ae.Reason)
		}
		return nil, nil, fmt.Errorf("remote: connecting to %s: %w", redact(cfg.url), err)
	}
	return conn, cc, nil
}

// connect makes the first connection, and what open builds on it, trying
// again with backoff within the time WithConnectTimeout allows and ctx
// lets it. Each failure is logged. A refused login, or a topology that the
// broker refuses, is not retried.
func connect[S any](ctx context.Context, cfg *config, what string, open func(context.Context) (S, error)) (S, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
	defer cancel()
	b := backoff{min: cfg.reconnectMin, max: cfg.reconnectMax}
	for attempt := 1; ; attempt++ {
		s, err := open(ctx)
		if err == nil {
			return s, nil
		}
		var zero S
		if errors.Is(err, ErrAccessRefused) || errors.Is(err, ErrTopology) {
			return zero, err
		}
		delay := b.next()
		if ctx.Err() != nil || ctxLeft(ctx) < delay {
			return zero, fmt.Errorf("%w: %s: gave up after %d attempts: %w", ErrUnreachable, what, attempt, err)
		}
		cfg.logger.Warn("remote: cannot connect; retrying", "what", what, "attempt", attempt, "in", delay, "error", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return zero, fmt.Errorf("%w: %s: gave up after %d attempts: %w", ErrUnreachable, what, attempt, err)
		}
	}
}

// ctxLeft is the time until ctx's deadline.
func ctxLeft(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Duration(1<<63 - 1)
	}
	return time.Until(d)
}

// backoff spaces attempts to connect: each delay doubles the one before,
// from min up to max, and is drawn at random from its upper half, so that
// clients that lost the broker together come back apart.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits for d, or until done is closed; it reports whether it slept
// through.
func sleep(d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// redact hides the password of a URL, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// closeError says why a connection ended, for the logs.
func closeError(err *amqp.Error) error {
	if err == nil {
		return errors.New("closed")
	}
	return err
}
