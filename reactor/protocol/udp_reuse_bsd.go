//go:build darwin || dragonfly || freebsd || netbsd

package protocol

import "syscall"

const soReusePort = syscall.SO_REUSEPORT
