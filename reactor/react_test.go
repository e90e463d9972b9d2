package reactor_test

import (
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

func TestReact(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		main func(r *reactor.Reactor) *deferredUnit
		want error
	}{
		{"succeeds", func(*reactor.Reactor) *deferredUnit { return deferred.Succeed(struct{}{}) }, nil},
		{"nil Deferred", func(*reactor.Reactor) *deferredUnit { return nil }, nil},
		{"fails", func(*reactor.Reactor) *deferredUnit { return deferred.Fail[struct{}](boom) }, boom},
		{"fails later", func(r *reactor.Reactor) *deferredUnit {
			d := deferred.New[struct{}]()
			r.CallLater(time.Second, func() { d.Errback(boom) })
			return d
		}, boom},
		{"fires on another goroutine", func(r *reactor.Reactor) *deferredUnit {
			d := deferred.New[struct{}]()
			go d.Callback(struct{}{})
			return d
		}, nil},
		{"reactor stopped first", func(r *reactor.Reactor) *deferredUnit {
			_ = r.Stop()
			return deferred.New[struct{}]()
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				err := reactor.React(tt.main, reactor.WithLogger(newLogger()))
				if tt.want == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, tt.want)
				}
			})
		})
	}
}

func TestReactMainRunsOnTheReactorWhenRunning(t *testing.T) {
	var running, onReactor bool
	err := reactor.React(func(r *reactor.Reactor) *deferredUnit {
		running, onReactor = r.Running(), reactor.OnReactor(r)
		return nil
	})
	require.NoError(t, err)
	assert.True(t, running)
	assert.True(t, onReactor)
}

func TestReactPanicBecomesPanicError(t *testing.T) {
	err := reactor.React(func(*reactor.Reactor) *deferredUnit { panic("main panicked") })
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "main panicked", pe.Value)
}

func TestReactLogsAFailureThatComesAfterItReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &logRecorder{}
		d := deferred.New[struct{}]()
		err := reactor.React(func(r *reactor.Reactor) *deferredUnit {
			r.CallLater(time.Second, func() { _ = r.Stop() })
			return d
		}, reactor.WithLogger(slog.New(rec)))
		require.NoError(t, err, "the reactor stopped before the Deferred fired")
		d.Errback(errors.New("too late"))
		assert.Equal(t, "too late", rec.attrs(t, "reactor: React's Deferred failed after the reactor had shut down")["err"].String())
	})
}
