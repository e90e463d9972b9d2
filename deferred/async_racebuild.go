//go:build race

package deferred

// With the race detector on, Await checks that it runs on its body's
// goroutine, at the cost of reading the goroutine's id on every call.
func init() { checkAwaitGoroutine = true }
