package trailfile

import (
	"errors"
	"io"
)

// ErrClosed is what Next returns after Close.
var ErrClosed = errors.New("trailfile: reader closed")

// Chunks of inflated JSON a read-ahead goroutine hands over: large enough
// that the hand-over costs nothing next to filling one, few enough that
// the memory stays small beside the Reader's own buffer.
const (
	readAheadChunk  = 256 << 10
	readAheadChunks = 3
)

// readAhead reads its source on a goroutine of its own (Options.ReadAhead).
// Read returns the bytes in order, then the source's error (io.EOF at the
// end) as the source returned it, so a Reader reading through it sees what
// it would see reading the source itself.
type readAhead struct {
	full chan []byte   // chunks read, in order; closed after err is set
	free chan []byte   // chunks to fill again
	stop chan struct{} // closed by close: the goroutine returns
	done chan struct{} // closed when the goroutine has returned
	err  error
	cur  []byte // the unread part of held
	held []byte // the chunk being read, nil before the first
}

func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{
		full: make(chan []byte, readAheadChunks),
		free: make(chan []byte, readAheadChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range readAheadChunks {
		ra.free <- make([]byte, readAheadChunk)
	}
	go ra.run(src)
	return ra
}

func (ra *readAhead) run(src io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			ra.err = ErrClosed
			return
		}
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = src.Read(buf[n:])
			n += k
		}
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.stop:
				ra.err = ErrClosed
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.held != nil {
			// Never blocks: free holds every chunk not in full or held.
			ra.free <- ra.held[:cap(ra.held)]
			ra.held = nil
		}
		chunk, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.held, ra.cur = chunk, chunk
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// close stops the goroutine and waits for it to return.
func (ra *readAhead) close() {
	close(ra.stop)
	<-ra.done
}
