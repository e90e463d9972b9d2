//go:build linux && !(mips || mipsle || mips64 || mips64le)

package protocol

// soReusePort is Linux's SO_REUSEPORT, which Go's frozen syscall package
// does not have.
const soReusePort = 0xf
