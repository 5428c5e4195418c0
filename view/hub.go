package view

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Hub hands snapshots from the training goroutine to the sinks that draw
// them (the PNG writer, the window), each on its own goroutine. Publish
// never blocks: each sink has a one-place mailbox, and a snapshot that
// finds it full replaces the one waiting there (the sink is busy drawing;
// the older one would be stale anyway).
type Hub struct {
	mu    sync.Mutex // guards sinks and closed (Add and close, not Publish's sends)
	sinks []*mailbox
	wg    sync.WaitGroup
	done  bool
}

type mailbox struct {
	ch   chan *Snapshot
	stop chan struct{}
}

// NewHub returns a hub with no sinks.
func NewHub() *Hub { return &Hub{} }

// SinkFunc is a sink's loop: it draws snapshots arriving on in until stop
// is closed, then draws the last snapshot waiting in in (the run's final
// state), and returns.
type SinkFunc func(in <-chan *Snapshot, stop <-chan struct{})

// Add starts a sink on its own goroutine.
func (h *Hub) Add(run SinkFunc) {
	m := &mailbox{ch: make(chan *Snapshot, 1), stop: make(chan struct{})}
	h.mu.Lock()
	h.sinks = append(h.sinks, m)
	h.mu.Unlock()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		run(m.ch, m.stop)
	}()
}

// Len returns the number of sinks.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sinks)
}

// Publish offers s to every sink without blocking.
func (h *Hub) Publish(s *Snapshot) {
	if h == nil {
		return
	}
	h.mu.Lock()
	sinks := h.sinks
	h.mu.Unlock()
	for _, m := range sinks {
		offer(m.ch, s)
	}
}

// offer puts s in a one-place mailbox without blocking, replacing what
// waits there.
func offer(ch chan *Snapshot, s *Snapshot) {
	select {
	case ch <- s:
		return
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- s:
	default: // the sink took the old one meanwhile and another filled it: drop
	}
}

// closeWait is how long close waits for the sinks to draw the final state.
const closeWait = 20 * time.Second

// close hands final to every sink, stops them and waits (at most closeWait)
// until they have drawn it.
func (h *Hub) close(final *Snapshot) {
	h.mu.Lock()
	if h.done {
		h.mu.Unlock()
		return
	}
	h.done = true
	sinks := h.sinks
	h.mu.Unlock()
	for _, m := range sinks {
		select {
		case <-m.ch:
		default:
		}
		m.ch <- final // the mailbox is empty and only close sends now
		close(m.stop)
	}
	finished := make(chan struct{})
	go func() { h.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(closeWait):
	}
}

// Close stops the sinks without a final snapshot (for runs that end before
// a Recorder exists); Recorder.Final is the normal way to end.
func (h *Hub) Close() {
	if h == nil {
		return
	}
	h.close(nil)
}

// Pacer spaces frames: at most one per period, and never more than Share
// of one core on drawing (a frame that cost t of CPU waits t/Share before
// the next), so the dashboard stays cheap on a loaded machine.
//
// QueueShare, when positive, bounds in the same way the time a frame held a
// queue that others need (Held): the window's presents share the training
// device's queue, and on a CPU driver a present holds it for tens of
// milliseconds.
type Pacer struct {
	Period     time.Duration
	Share      float64
	QueueShare float64
	next       time.Time
}

// frameClock measures a frame's cost: the CPU time of the calling thread
// where the system reports it (the sinks run on locked threads), else the
// wall time.
type frameClock struct {
	wall time.Time
	cpu  time.Duration
	ok   bool
}

func startFrame() frameClock {
	c := frameClock{wall: time.Now()}
	c.cpu, c.ok = threadCPU()
	return c
}

// cost returns the frame's cost so far.
func (c frameClock) cost() time.Duration {
	if c.ok {
		if now, ok := threadCPU(); ok {
			return now - c.cpu
		}
	}
	return time.Since(c.wall)
}

// Ready reports whether a frame may be drawn now.
func (p *Pacer) Ready(now time.Time) bool { return !now.Before(p.next) }

// Drew records a frame begun at start that cost cost (of CPU time).
func (p *Pacer) Drew(start time.Time, cost time.Duration) {
	wait := p.Period
	if p.Share > 0 {
		if w := time.Duration(float64(cost) / p.Share); w > wait {
			wait = w
		}
	}
	p.next = start.Add(wait)
}

// Held records that the frame begun at start held a shared queue for held.
func (p *Pacer) Held(start time.Time, held time.Duration) {
	if p.QueueShare > 0 {
		if t := start.Add(time.Duration(float64(held) / p.QueueShare)); t.After(p.next) {
			p.next = t
		}
	}
}

// Until returns how long until the next frame may be drawn.
func (p *Pacer) Until(now time.Time) time.Duration { return max(p.next.Sub(now), 0) }

// Width and Height are the dashboard's size in the PNG of --view-png and,
// initially, in the window.
const Width, Height = 1280, 800

// Size returns Width × Height as a point.
func Size() image.Point { return image.Pt(Width, Height) }

// PNGSink returns a sink that writes the dashboard to path (atomically,
// through a temporary file beside it) every period when it has changed, and
// once more with the final state. Errors are reported once on log.
func PNGSink(path string, size image.Point, period time.Duration, log io.Writer) SinkFunc {
	return func(in <-chan *Snapshot, stop <-chan struct{}) {
		runtime.LockOSThread() // so that the thread's CPU time is this sink's
		defer runtime.UnlockOSThread()
		r := NewRenderer()
		img := image.NewRGBA(image.Rectangle{Max: size})
		pace := Pacer{Period: period, Share: 0.02}
		var cur, drawn *Snapshot
		reported := false
		write := func(s *Snapshot) {
			c := startFrame()
			r.Render(img, s)
			err := writePNG(path, img)
			pace.Drew(c.wall, c.cost())
			drawn = s
			if err != nil && !reported {
				reported = true
				fmt.Fprintf(log, "view     --view-png: %v (training goes on)\n", err)
			}
		}
		timer := time.NewTimer(period)
		defer timer.Stop()
		for {
			select {
			case s := <-in:
				if s != nil {
					cur = s
				}
			case <-timer.C:
			case <-stop:
				if cur = latest(in, cur); cur != nil {
					write(cur)
				}
				return
			}
			now := time.Now()
			if cur != nil && cur != drawn && pace.Ready(now) {
				write(cur)
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			wait := pace.Until(time.Now())
			if wait == 0 || cur == drawn {
				wait = max(wait, period)
			}
			timer.Reset(wait)
		}
	}
}

// writePNG encodes img and replaces path with it atomically.
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// latest returns the snapshot waiting in in, if there is one, else cur:
// what a drawer shows last when it is told to stop.
func latest(in <-chan *Snapshot, cur *Snapshot) *Snapshot {
	select {
	case s := <-in:
		if s != nil {
			return s
		}
	default:
	}
	return cur
}
