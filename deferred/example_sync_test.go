package deferred_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/twinego/twine/deferred"
)

// A Lock serves its waiters in turn: each Acquire's Deferred fires when the
// one before releases.
func ExampleLock() {
	var l deferred.Lock
	for _, name := range []string{"first", "second", "third"} {
		l.Acquire().AddCallback(func(held *deferred.Lock) (*deferred.Lock, error) {
			fmt.Println(name, "holds the lock")
			return held, nil
		})
	}
	fmt.Println("waiting:", l.Waiting())
	l.Release() // first hands over to second
	l.Release() // second hands over to third
	l.Release()
	fmt.Println("locked:", l.Locked())
	// Output:
	// first holds the lock
	// waiting: 2
	// second holds the lock
	// third holds the lock
	// locked: false
}

// Cancelling a waiting Acquire takes it out of the line; with WithContext a
// context's deadline or cancellation does it.
func ExampleLock_Acquire() {
	var l deferred.Lock
	l.Acquire()

	ctx, cancel := context.WithCancel(context.Background())
	d := deferred.WithContext(ctx, l.Acquire())
	cancel()
	_, err := d.Wait(context.Background())
	fmt.Println(errors.Is(err, deferred.ErrCancelled), l.Waiting())

	l.Release()
	fmt.Println("locked:", l.Locked())
	// Output:
	// true 0
	// locked: false
}

// Run holds the lock while its function runs, and gives it back with the
// result.
func ExampleRun() {
	var l deferred.Lock
	d := deferred.Run(&l, func() (string, error) {
		fmt.Println("locked while running:", l.Locked())
		return "done", nil
	})
	v, err := d.Result()
	fmt.Println(v, err, l.Locked())
	// Output:
	// locked while running: true
	// done <nil> false
}

// RunDeferred holds the semaphore's token until the function's Deferred
// fires: at most two jobs run at once here.
func ExampleRunDeferred() {
	sem := deferred.NewSemaphore(2)
	jobs := make([]*deferred.Deferred[int], 4)
	for i := range jobs {
		jobs[i] = deferred.New[int]()
		deferred.RunDeferred(sem, func() *deferred.Deferred[int] {
			fmt.Println("job", i, "starts")
			return jobs[i]
		}).AddCallback(func(v int) (int, error) {
			fmt.Println("job", i, "gave", v)
			return v, nil
		})
	}
	for i, job := range jobs {
		job.Callback(i * 10)
	}
	// Output:
	// job 0 starts
	// job 1 starts
	// job 2 starts
	// job 0 gave 0
	// job 3 starts
	// job 1 gave 10
	// job 2 gave 20
	// job 3 gave 30
}

// A Semaphore lets a fixed number of holders in at once; the others wait.
func ExampleSemaphore() {
	sem := deferred.NewSemaphore(2)
	sem.Acquire()
	sem.Acquire()
	third := sem.Acquire()
	fmt.Println("tokens:", sem.Tokens(), "waiting:", sem.Waiting(), "limit:", sem.Limit())
	sem.Release()
	_, err := third.Result()
	fmt.Println("third holds a token:", err == nil)
	// Output:
	// tokens: 0 waiting: 1 limit: 2
	// third holds a token: true
}

// A Queue hands values to Gets in order: buffered ones at once, later ones
// as they are put.
func ExampleQueue() {
	q := deferred.NewQueue[string]()
	_ = q.Put("a")
	q.Get().AddCallback(func(s string) (string, error) {
		fmt.Println("got", s, "at once")
		return s, nil
	})
	q.Get().AddCallback(func(s string) (string, error) {
		fmt.Println("got", s, "when it was put")
		return s, nil
	})
	fmt.Println("waiting:", q.Waiting())
	_ = q.Put("b")
	// Output:
	// got a at once
	// waiting: 1
	// got b when it was put
}

// Size and backlog limits turn a full queue, or too many waiting Gets, into
// errors instead of unbounded growth.
func ExampleNewQueue() {
	q := deferred.NewQueue[int](deferred.WithQueueSize(1), deferred.WithQueueBacklog(1))
	fmt.Println(q.Put(1), q.Put(2))

	q.Get() // takes the 1
	q.Get() // waits
	_, err := q.Get().Result()
	fmt.Println(err)
	// Output:
	// <nil> deferred: queue overflow
	// deferred: queue underflow
}

// Goroutines can feed a Queue while another waits on it.
func ExampleQueue_Get() {
	q := deferred.NewQueue[int]()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 {
			_ = q.Put(i)
		}
	}()
	sum := 0
	for range 3 {
		v, err := q.Get().Wait(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		sum += v
	}
	<-done
	fmt.Println("sum:", sum)
	// Output:
	// sum: 3
}
