package reactor

// OnReactor reports whether the calling goroutine is r's reactor goroutine.
func OnReactor(r *Reactor) bool { return r.onReactor() }
