package reactor

// OnReactor reports whether the calling goroutine is r's reactor goroutine.
func OnReactor(r *Reactor) bool { return r.onReactor() }

// ForceSpin makes r spin before every sleep, for as long as [WithSpin]
// allows, whatever its judgement of whether spinning pays. Call it before
// Run.
func ForceSpin(r *Reactor) { r.spinner.forced = true }
