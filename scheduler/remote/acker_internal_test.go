package remote

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settlements records what an acker sends, in order, as the broker would
// read it from the channel.
type settlements struct {
	mu   sync.Mutex
	sent []string
}

func (s *settlements) record(format string, args ...any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, fmt.Sprintf(format, args...))
	return nil
}

func (s *settlements) Ack(tag uint64, multiple bool) error {
	return s.record("ack %d multiple=%v", tag, multiple)
}

func (s *settlements) Nack(tag uint64, multiple, requeue bool) error {
	return s.record("nack %d multiple=%v requeue=%v", tag, multiple, requeue)
}

func (s *settlements) Reject(tag uint64, requeue bool) error {
	return s.record("reject %d requeue=%v", tag, requeue)
}

// take returns what was sent since the last take.
func (s *settlements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := s.sent
	s.sent = nil
	return sent
}

func newTestAcker(tags ...uint64) (*acker, *settlements) {
	s := &settlements{}
	a := newAcker(s)
	for _, tag := range tags {
		a.add(tag)
	}
	return a, s
}

func TestAckerAcknowledgesARunOfTasksAtOnce(t *testing.T) {
	a, s := newTestAcker(1, 2, 3, 4, 5)
	for tag := uint64(1); tag <= 5; tag++ {
		a.answered(tag)
		a.ack(tag)
	}
	assert.Empty(t, s.take(), "sent before the flush")
	a.flush()
	assert.Equal(t, []string{"ack 5 multiple=true"}, s.take())
	a.flush()
	assert.Empty(t, s.take(), "sent twice")
}

func TestAckerHoldsATaskBehindOneAnswered(t *testing.T) {
	a, s := newTestAcker(1, 2, 3)
	for tag := uint64(1); tag <= 3; tag++ {
		a.answered(tag)
	}
	a.ack(3)
	a.ack(2)
	a.flush()
	assert.Empty(t, s.take(), "1's confirm is on its way: 2 and 3 wait for it")
	a.ack(1)
	a.flush()
	assert.Equal(t, []string{"ack 3 multiple=true"}, s.take())
}

func TestAckerDoesNotHoldATaskBehindOneRunning(t *testing.T) {
	a, s := newTestAcker(1, 2, 3, 4)
	a.answered(2)
	a.answered(3)
	a.answered(4)
	a.ack(2)
	a.ack(4)
	a.flush()
	assert.Equal(t, []string{"ack 2 multiple=false", "ack 4 multiple=false"}, s.take(),
		"1 runs, for as long as it takes: those behind it go alone, at once")
	a.ack(3)
	a.flush()
	assert.Equal(t, []string{"ack 3 multiple=false"}, s.take())
	a.answered(1)
	a.ack(1)
	a.flush()
	assert.Equal(t, []string{"ack 1 multiple=true"}, s.take(), "1 alone: the others are settled")
}

func TestAckerSendsRejectionsBeforeAnAckThatCoversThem(t *testing.T) {
	a, s := newTestAcker(1, 2, 3, 4)
	for tag := uint64(1); tag <= 4; tag++ {
		a.answered(tag)
	}
	a.ack(1)
	require.NoError(t, a.nack(2, true))
	require.NoError(t, a.reject(3))
	assert.Equal(t, []string{"nack 2 multiple=false requeue=true", "reject 3 requeue=false"}, s.take(), "not sent at once")
	a.ack(4)
	a.flush()
	assert.Equal(t, []string{"ack 4 multiple=true"}, s.take())
	assert.ErrorIs(t, a.reject(2), errSettled)
	assert.ErrorIs(t, a.ackNow(9), errSettled)
	assert.Empty(t, s.take(), "a tag settled already, or never delivered, is not sent: the broker would close the channel")
}

func TestAckerFlushAllLeavesNothingReady(t *testing.T) {
	a, s := newTestAcker(1, 2, 3)
	a.answered(1)
	a.answered(2)
	a.ack(2)
	a.flush()
	assert.Empty(t, s.take())
	a.flushAll()
	assert.Equal(t, []string{"ack 2 multiple=false"}, s.take(), "the worker closes the channel: 2 goes now")
	a.ack(1) // its confirm came, too late: 1 is acknowledged on the next flush
	a.flushAll()
	assert.Equal(t, []string{"ack 1 multiple=true"}, s.take())
}

func TestAckerMarksGoForwardOnly(t *testing.T) {
	a, s := newTestAcker(1)
	a.ack(1)
	a.answered(1) // late: it stays ready
	a.flush()
	assert.Equal(t, []string{"ack 1 multiple=true"}, s.take())
	a.ack(1)
	a.flush()
	assert.Empty(t, s.take(), "a tag settled is not acknowledged again")
}

// TestAckerStaysSmallBehindALongTask: a task that runs for long keeps its
// place at the front; the many that finish behind it are settled, and the
// acker forgets them, so that it holds about the window's worth of tasks.
func TestAckerStaysSmallBehindALongTask(t *testing.T) {
	a, s := newTestAcker(1)
	const n = 100_000
	for tag := uint64(2); tag <= n; tag++ {
		a.add(tag)
		a.answered(tag)
		a.ack(tag)
		a.flush()
		require.Equal(t, []string{fmt.Sprintf("ack %d multiple=false", tag)}, s.take())
	}
	assert.LessOrEqual(t, cap(a.q), 256, "the acker kept the settled tasks")
	a.answered(1)
	a.ack(1)
	a.flush()
	assert.Equal(t, []string{"ack 1 multiple=true"}, s.take())
	assert.Empty(t, a.q)
}

// resultsFor makes results, of tasks the pool never made, with the
// delivery tags from..to.
func resultsFor(from, to uint64) []amqp.Delivery {
	var ds []amqp.Delivery
	for tag := from; tag <= to; tag++ {
		d := delivered(resultMessage(fmt.Sprintf("stranger.%d", tag), 1, nil))
		d.DeliveryTag = tag
		ds = append(ds, *d)
	}
	return ds
}

// takingResults starts a pool's result consumer, the pool of maxInFlight
// with nothing in flight, on a channel of deliveries of buffer room; done
// is closed when it returns, once deliveries is closed.
func takingResults(maxInFlight, room int) (p *Pool, deliveries chan amqp.Delivery, acks *settlements, done chan struct{}) {
	p = &Pool{tasks: make(map[string]*task), cfg: config{maxInFlight: maxInFlight}}
	deliveries = make(chan amqp.Delivery, room)
	acks = &settlements{}
	done = make(chan struct{})
	go func() {
		defer close(done)
		p.takeResults(deliveries, acks)
	}()
	return p, deliveries, acks, done
}

// TestPoolAcknowledgesResultsTogether: a pool acknowledges its results every
// resultAckBatch, or resultAckDelay after the first of them not yet
// acknowledged came, with one acknowledgement of several; with room for
// one task in flight, each at once.
func TestPoolAcknowledgesResultsTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, deliveries, acks, done := takingResults(500, 2*resultAckBatch)

		for _, d := range resultsFor(1, 3) {
			deliveries <- d
		}
		synctest.Wait()
		assert.Equal(t, int64(3), p.Stats().Duplicates, "the results were not taken")
		assert.Empty(t, acks.take(), "three results acknowledged before their delay")
		time.Sleep(resultAckDelay / 2)
		synctest.Wait()
		assert.Empty(t, acks.take())
		time.Sleep(resultAckDelay / 2)
		synctest.Wait()
		assert.Equal(t, []string{"ack 3 multiple=true"}, acks.take(), "the results left unacknowledged")

		for _, d := range resultsFor(4, 3+resultAckBatch) {
			deliveries <- d
		}
		synctest.Wait()
		assert.Equal(t, []string{fmt.Sprintf("ack %d multiple=true", 3+resultAckBatch)}, acks.take(),
			"a batch's worth waits for no delay")
		time.Sleep(10 * resultAckDelay)
		synctest.Wait()
		assert.Empty(t, acks.take(), "acknowledged twice")

		close(deliveries)
		<-done
	})
}

func TestPoolWithRoomForOneAcknowledgesEachResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, deliveries, acks, done := takingResults(1, 0)
		for _, d := range resultsFor(1, 2) {
			deliveries <- d
			synctest.Wait()
			assert.Equal(t, []string{fmt.Sprintf("ack %d multiple=true", d.DeliveryTag)}, acks.take())
		}
		close(deliveries)
		<-done
	})
}
