//go:build unix

package brokertest

import (
	"os"
	"path/filepath"
	"syscall"
)

// lock takes the lock on the broker that the tests of every package share:
// shared, or exclusive when alone. It returns the function that releases it.
func lock(alone bool) (func(), error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "twine-broker-tests.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if alone {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
