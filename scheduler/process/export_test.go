package process

// SetProtocolVersionForTest makes this process speak another protocol
// version, so that a test can start a worker that does not match.
func SetProtocolVersionForTest(v uint64) { protocolVersion = v }

// WriteRawForTest writes b on the worker's protocol stream, between frames,
// as a broken worker would. It must be called in a worker (from a
// registered function).
func WriteRawForTest(b []byte) {
	s := serving
	s.wmu.Lock()
	s.wbuf = append(s.wbuf, b...)
	s.flushLocked()
}

// ForgetMainForTest makes NewPool see a program whose main has not called
// Main, until the returned function restores the truth.
func ForgetMainForTest() (restore func()) {
	mainCalled.Store(false)
	return func() { mainCalled.Store(true) }
}
