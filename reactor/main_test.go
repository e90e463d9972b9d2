package reactor_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// os/signal starts one goroutine of its own, for the life of the
	// process, the first time a signal is asked for; it is not the reactor's.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("os/signal.loop"))
}
