package scheduler

// The heap behind Timers: 4-ary, like the Go runtime's timer heap, because a
// wider node halves the depth and keeps the children of a node in one cache
// line. Every method is called with the queue's lock held and keeps each
// timer's index up to date, so that a call can leave the heap from anywhere
// in O(log n).

// less orders timers by due time, then by scheduling order.
func less(a, b *timer) bool {
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

func (q *Timers) push(t *timer) {
	t.index = len(q.heap)
	q.heap = append(q.heap, t)
	q.up(t.index)
}

// remove takes the timer at index i out of the heap.
func (q *Timers) remove(i int) {
	h := q.heap
	last := len(h) - 1
	removed := h[i]
	if i != last {
		h[i] = h[last]
		h[i].index = i
	}
	h[last] = nil
	q.heap = h[:last]
	removed.index = -1
	if i != last {
		q.fix(i)
	}
	q.shrink()
}

// fix restores the heap order after the timer at index i changed its key.
func (q *Timers) fix(i int) {
	if !q.up(i) {
		q.down(i)
	}
}

// up moves the timer at index i towards the root; it reports whether it moved.
func (q *Timers) up(i int) bool {
	h := q.heap
	t := h[i]
	start := i
	for i > 0 {
		p := (i - 1) / 4
		if !less(t, h[p]) {
			break
		}
		h[i] = h[p]
		h[i].index = i
		i = p
	}
	h[i] = t
	t.index = i
	return i != start
}

// down moves the timer at index i towards the leaves.
func (q *Timers) down(i int) {
	h := q.heap
	n := len(h)
	t := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if less(h[j], h[m]) {
				m = j
			}
		}
		if !less(h[m], t) {
			break
		}
		h[i] = h[m]
		h[i].index = i
		i = m
	}
	h[i] = t
	t.index = i
}

// shrink gives back memory when the heap has emptied to a quarter of its
// capacity, so that a burst of cancelled or fired calls does not pin it.
func (q *Timers) shrink() {
	const minCap = 64
	if c := cap(q.heap); c > minCap && len(q.heap) < c/4 {
		h := make([]*timer, len(q.heap), c/2)
		copy(h, q.heap)
		q.heap = h
	}
}
