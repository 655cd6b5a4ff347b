package paws

// ring is a FIFO on a power-of-two ring buffer. It allocates only when it
// grows, so a queue that has reached its working size never allocates.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (q *ring[T]) len() int { return q.n }

func (q *ring[T]) push(v T) {
	if q.n == len(q.buf) {
		size := 2 * len(q.buf)
		if size == 0 {
			size = 64
		}
		buf := make([]T, size)
		for i := 0; i < q.n; i++ {
			buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

// front returns the oldest element; the queue must not be empty.
func (q *ring[T]) front() *T { return &q.buf[q.head] }

func (q *ring[T]) pop() {
	var zero T
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
}

// twTimer is a TIME_WAIT timer: the slab index of its socket, which
// records the timer's position in the heap.
type twTimer struct {
	at  Time
	idx int32
}

// twHeap is a binary min-heap of TIME_WAIT timers ordered by at, with
// exactly one entry per TIME_WAIT socket: a socket released early takes
// its entry with it, and a re-armed timer is moved when its old expiry
// comes up.
type twHeap []twTimer

func (e *Evaluator) twSwap(i, j int) {
	h := e.twQ
	h[i], h[j] = h[j], h[i]
	e.slab[h[i].idx].hpos = int32(i)
	e.slab[h[j].idx].hpos = int32(j)
}

func (e *Evaluator) twUp(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if e.twQ[p].at <= e.twQ[i].at {
			return
		}
		e.twSwap(p, i)
		i = p
	}
}

func (e *Evaluator) twDown(i int) {
	h := e.twQ
	for {
		l, m := 2*i+1, i
		if l < len(h) && h[l].at < h[m].at {
			m = l
		}
		if r := l + 1; r < len(h) && h[r].at < h[m].at {
			m = r
		}
		if m == i {
			return
		}
		e.twSwap(i, m)
		i = m
	}
}

// twPush adds the timer of the TIME_WAIT socket at slab index idx.
func (e *Evaluator) twPush(idx int32, at Time) {
	e.twQ = append(e.twQ, twTimer{at: at, idx: idx})
	n := len(e.twQ) - 1
	e.slab[idx].hpos = int32(n)
	e.twUp(n)
}

// twRemove removes the timer at heap position i.
func (e *Evaluator) twRemove(i int) {
	last := len(e.twQ) - 1
	if i != last {
		e.twSwap(i, last)
	}
	e.twQ[last] = twTimer{}
	e.twQ = e.twQ[:last]
	if i < last {
		e.twDown(i)
		e.twUp(i)
	}
}
