package deferred_test

import (
	"testing"

	"github.com/twinego/twine/deferred"
)

// BenchmarkLockAcquireRelease takes and gives back a free lock: the Acquire
// fires at once.
func BenchmarkLockAcquireRelease(b *testing.B) {
	b.ReportAllocs()
	var l deferred.Lock
	for b.Loop() {
		l.Acquire()
		l.Release()
	}
}

// BenchmarkLockHandOff queues one waiter behind the holder and releases
// twice: the first Release hands the lock to the waiter, whose callback runs.
func BenchmarkLockHandOff(b *testing.B) {
	b.ReportAllocs()
	var l deferred.Lock
	held := func(l *deferred.Lock) (*deferred.Lock, error) { return l, nil }
	for b.Loop() {
		l.Acquire()
		l.Acquire().AddCallback(held)
		l.Release()
		l.Release()
	}
}

// BenchmarkLockWaiters1000 queues 1,000 waiters behind the holder, then each
// releases in its callback in turn: one op serves all 1,000.
func BenchmarkLockWaiters1000(b *testing.B) {
	b.ReportAllocs()
	var l deferred.Lock
	release := func(l *deferred.Lock) (*deferred.Lock, error) {
		l.Release()
		return l, nil
	}
	ds := make([]*deferred.Deferred[*deferred.Lock], 1000)
	for b.Loop() {
		l.Acquire()
		for i := range ds {
			ds[i] = l.Acquire()
		}
		l.Release()
		for _, d := range ds {
			d.AddCallback(release)
		}
	}
}

// BenchmarkLockRun runs a function under a free lock.
func BenchmarkLockRun(b *testing.B) {
	b.ReportAllocs()
	var l deferred.Lock
	f := func() (int, error) { return 1, nil }
	for b.Loop() {
		deferred.Run(&l, f)
	}
}

// BenchmarkSemaphoreAcquireRelease takes and gives back a free token.
func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	b.ReportAllocs()
	sem := deferred.NewSemaphore(4)
	for b.Loop() {
		sem.Acquire()
		sem.Release()
	}
}

// BenchmarkSemaphoreHandOff takes the only token, queues a waiter and
// releases twice: the first Release hands the token over.
func BenchmarkSemaphoreHandOff(b *testing.B) {
	b.ReportAllocs()
	sem := deferred.NewSemaphore(1)
	held := func(s *deferred.Semaphore) (*deferred.Semaphore, error) { return s, nil }
	for b.Loop() {
		sem.Acquire()
		sem.Acquire().AddCallback(held)
		sem.Release()
		sem.Release()
	}
}

// BenchmarkQueuePutGet buffers a value and gets it at once.
func BenchmarkQueuePutGet(b *testing.B) {
	b.ReportAllocs()
	q := deferred.NewQueue[int]()
	for b.Loop() {
		_ = q.Put(1)
		q.Get()
	}
}

// BenchmarkQueueGetPut makes a Get wait, then fires it with a Put and its
// callback runs.
func BenchmarkQueueGetPut(b *testing.B) {
	b.ReportAllocs()
	q := deferred.NewQueue[int]()
	got := func(v int) (int, error) { return v, nil }
	for b.Loop() {
		q.Get().AddCallback(got)
		_ = q.Put(1)
	}
}
