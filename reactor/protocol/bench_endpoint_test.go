package protocol_test

import (
	"testing"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// BenchmarkFromString measures parsing a description of each kind.
func BenchmarkFromString(b *testing.B) {
	r := reactor.New()
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"server/tcp", func() error {
			_, err := protocol.ServerFromString(r, "tcp:8080:interface=127.0.0.1:backlog=50")
			return err
		}},
		{"client/tcp", func() error {
			_, err := protocol.ClientFromString(r, "tcp:host=example.com:port=80:timeout=5:bindAddress=10.0.0.2")
			return err
		}},
		{"server/unix", func() error {
			_, err := protocol.ServerFromString(r, `unix:/run/app\:1.sock:mode=660:lockfile=0`)
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
