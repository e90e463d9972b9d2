// Package brokertest finds the RabbitMQ broker that twine's tests and
// benchmarks use, and disturbs it the way the tests of delivery guarantees
// need: closing connections from the broker's side, restarting its
// application. The broker is shared by every package under test at once, so
// a test that restarts it takes it for itself first (see [RequireAlone]).
package brokertest

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// EnvURL names the environment variable that gives the broker's address,
// as for scheduler/remote.
const EnvURL = "TWINE_AMQP_URL"

// EnvRequired names the environment variable that, set to a non-empty
// value, makes the tests that need a broker fail when none answers, rather
// than skip: CI sets it, having started the broker.
const EnvRequired = "TWINE_AMQP_REQUIRED"

// DefaultURL is the broker's address when EnvURL is empty.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// URL returns the broker's address: EnvURL's value, or DefaultURL.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

var probe = sync.OnceValue(func() error {
	conn, err := amqp.DialConfig(URL(), amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return err
	}
	return conn.Close()
})

// Available reports whether a broker answers at URL, and if not, why not,
// in one line. It asks once per process.
func Available() (bool, string) {
	if err := probe(); err != nil {
		return false, fmt.Sprintf("no RabbitMQ at %s: %v", Redact(URL()), err)
	}
	return true, ""
}

// Require returns the broker's URL for a test that needs it. When no broker
// answers, it skips t with a one-line reason, or fails it if EnvRequired is
// set. The test shares the broker with the other tests for as long as it
// runs (a test that restarts it waits for the others).
func Require(t testing.TB) string {
	t.Helper()
	return require(t, false)
}

// Share takes the broker as Require does, for a program that is not a test
// (a benchmark's rounds): a test that restarts the broker waits until it
// calls the release function it returns.
func Share() (release func(), err error) {
	return lock(false)
}

// TakeAlone takes the broker as RequireAlone does, for a program that is
// not a test and disturbs the whole broker (restarts it): it waits until no
// test or Share holder uses the broker, and keeps them waiting until it
// calls the release function it returns.
func TakeAlone() (release func(), err error) {
	return lock(true)
}

// RequireAlone is Require for a test that disturbs the whole broker
// (restarts it): it waits until no other test, in any package, uses the
// broker, and keeps the others waiting until it ends.
func RequireAlone(t testing.TB) string {
	t.Helper()
	return require(t, true)
}

func require(t testing.TB, alone bool) string {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv(EnvRequired) != "" {
			t.Fatalf("%s, and %s is set", why, EnvRequired)
		}
		t.Skipf("%s (set %s=1 to fail instead)", why, EnvRequired)
	}
	release, err := lock(alone)
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	t.Cleanup(release)
	return URL()
}

// Redact hides the password of a URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// CloseConnections makes the broker close, with CONNECTION_FORCED, every
// connection whose client-given name starts with prefix, and returns how
// many it closed. It needs rabbitmqctl, run as a user it works for (root,
// or rabbitmq); without it, it skips t.
func CloseConnections(t testing.TB, prefix string) int {
	t.Helper()
	if strings.ContainsAny(prefix, "\"\\") {
		t.Fatalf("brokertest: CloseConnections(%q): quotes and backslashes are not allowed", prefix)
	}
	expr := `Prefix = <<"` + prefix + `">>,
		Pids = [P || P <- rabbit_networking:connections(),
			{client_properties, CP} <- rabbit_networking:connection_info(P, [client_properties]),
			{<<"connection_name">>, longstr, N} <- CP,
			binary:longest_common_prefix([N, Prefix]) =:= byte_size(Prefix)],
		[rabbit_networking:close_connection(P, "closed by a test") || P <- Pids],
		length(Pids).`
	out := ctl(t, "eval", expr)
	var n int
	if _, err := fmt.Sscan(strings.TrimSpace(out), &n); err != nil {
		t.Fatalf("brokertest: rabbitmqctl eval answered %q", out)
	}
	return n
}

// RestartApp stops the broker's application and starts it again, as a
// broker restart does to its clients: every connection is closed, new ones
// are refused meanwhile, and durable queues come back with their persistent
// messages. Call it from a test that began with RequireAlone. It skips t
// without rabbitmqctl.
func RestartApp(t testing.TB) {
	t.Helper()
	ctl(t, "stop_app")
	ctl(t, "start_app")
	ctl(t, "await_startup")
}

// ctl runs rabbitmqctl with args and returns its output.
func ctl(t testing.TB, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		if os.Getenv(EnvRequired) != "" {
			t.Fatalf("brokertest: rabbitmqctl not found, and %s is set", EnvRequired)
		}
		t.Skip("brokertest: rabbitmqctl not found: cannot act on the broker's side")
	}
	out, err := exec.Command(path, append([]string{"--quiet"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("brokertest: rabbitmqctl %s: %v\n%s", args[0], err, out)
	}
	return string(out)
}
