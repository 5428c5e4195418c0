package ref

import (
	"runtime"
	"sync"
)

// ranger is the body of one op over the index range [lo, hi) of its
// parallel dimension; part is the chunk's number (0 for the calling
// goroutine, below the backend's thread count), which ops with per-chunk
// scratch (the GEMMs) use to pick it. Ops keep their operands in a struct of the Backend's
// jobs (see jobs) and hand a pointer to it to run, so that splitting an op
// over the worker goroutines allocates nothing: no closure, no goroutine,
// no WaitGroup per call.
type ranger interface{ run(lo, hi, part int) }

// chunk is one part of an op handed to a worker.
type chunk struct {
	r            ranger
	lo, hi, part int
}

// workers are the helper goroutines of a Backend: threads-1 of them, the
// calling goroutine running the first chunk of every op itself. They hold
// no reference to the Backend, so a Backend that is dropped without Close
// is still collected, and its cleanup stops them.
type workers struct {
	work chan chunk
	wg   sync.WaitGroup
	once sync.Once
}

func startWorkers(n int) *workers {
	w := &workers{work: make(chan chunk, n)}
	for range n {
		go w.loop()
	}
	return w
}

func (w *workers) loop() {
	for c := range w.work {
		c.r.run(c.lo, c.hi, c.part)
		c = chunk{}
		w.wg.Done()
	}
}

func (w *workers) stop() { w.once.Do(func() { close(w.work) }) }

// run runs r over [0, n) split into contiguous chunks of at least grain
// items, at most b.threads chunks, the first on the calling goroutine and
// the others on the workers, and returns when all are done. Chunk
// boundaries depend only on n, grain and the thread count.
func (b *Backend) run(r ranger, n, grain int) {
	if grain < 1 {
		grain = 1
	}
	chunks := min(b.threads, (n+grain-1)/grain)
	if chunks <= 1 {
		r.run(0, n, 0)
		return
	}
	if b.pool == nil {
		b.pool = startWorkers(b.threads - 1)
		runtime.AddCleanup(b, (*workers).stop, b.pool)
	}
	p := b.pool
	p.wg.Add(chunks - 1)
	for c := 1; c < chunks; c++ {
		p.work <- chunk{r: r, lo: n * c / chunks, hi: n * (c + 1) / chunks, part: c}
	}
	r.run(0, n/chunks, 0)
	p.wg.Wait()
}

// jobs holds the operands of each op that runs on the workers, one field
// per op body: an op fills its field, runs it, and clears it (so the
// backend keeps no tensor alive). A Backend runs one op at a time.
type jobs struct {
	addBias     addBiasJob
	colSum      colSumJob
	relu        reluJob
	reluGrad    reluGradJob
	maxPool     maxPoolJob
	bnStats     bnStatsJob
	bnApply     bnApplyJob
	bnInfer     bnInferJob
	bnGradSums  bnGradSumsJob
	bnGradDX    bnGradDXJob
	compMean    compMeanJob
	colStats    colStatsJob
	rowAdd      rowAddJob
	quantize    quantizeJob
	dequantize  dequantizeJob
	quantGrad   quantGradJob
	im2colI     im2colIJob
	im2col      im2colJob
	col2im      col2imJob
	rowSumI     rowSumIJob
	dequant     dequantJob
	gemmI       gemmIJob
	toFloat     toFloatJob
	gemmIExact  gemmIExactJob
	q8Pack      q8PackJob
	q8Gemm      q8GemmJob
	q8Pad       q8PadJob
	q8Conv      q8ConvJob
	gemm        gemmJob
	minMax      minMaxJob
	add         addJob
	avgPool     avgPoolJob
	avgPoolGrad avgPoolGradJob
	dwConvI     dwConvIJob
	dwConv      dwConvJob
	dwConvGradX dwConvGradXJob
	dwConvGradW dwConvGradWJob
}
