//go:build !linux

package process

// lowerPriority does nothing outside Linux: WithWorkerNice is Linux's.
func lowerPriority(int) error { return nil }
