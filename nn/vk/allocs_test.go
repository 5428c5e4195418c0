package vk

import (
	"math"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
)

// stepOps records the backend calls of a small training step (an int8
// convolution with compensation, batch norm, ReLU and pooling, then a
// float fully connected layer, forward and backward, and the quantizer
// gradients), with every tensor made up front: a training step's work as
// the backend sees it.
type stepOps struct {
	b *Backend
	t map[string]*Tensor

	g         backend.ConvGeom
	pg        backend.PoolGeom
	pa, pw    backend.QuantSpec
	logits    []float32
	minmax    []float32
	counts    []int32
	fcShape   [2]int
	imgShape  [4]int // the pooled image
	convShape [4]int // the convolution's output image
}

func newStepOps(t *testing.T, b *Backend) *stepOps {
	t.Helper()
	const n, h, w, c, oc, classes = 4, 12, 12, 3, 8, 10
	s := &stepOps{b: b, t: map[string]*Tensor{}}
	s.g = backend.ConvGeom{N: n, H: h, W: w, C: c, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	oh, ow := s.g.Out()
	s.pg = backend.PoolGeom{N: n, H: oh, W: ow, C: oc, Size: 2, Stride: 2}
	ph, pw := s.pg.Out()
	rows, k, feat := s.g.Rows(), s.g.K(), ph*pw*oc
	s.fcShape = [2]int{n, feat}
	s.imgShape = [4]int{n, ph, pw, oc}
	s.convShape = [4]int{n, oh, ow, oc}
	s.pa = backend.QuantSpec{Scale: []float32{0.02}, Zero: []int32{128}, QMin: 0, QMax: 255}
	s.pw = backend.QuantSpec{Scale: make([]float32, oc), Zero: make([]int32, oc), QMin: -127, QMax: 127}
	for i := range oc {
		s.pw.Scale[i] = 0.01 * float32(i+1)
	}
	mk := func(name string, dt backend.DType, shape ...int) {
		x, err := b.New(dt, shape...)
		if err != nil {
			t.Fatal(err)
		}
		s.t[name] = x.(*Tensor)
		if dt == backend.F32 {
			v := make([]float32, x.Len())
			for i := range v {
				v[i] = float32(math.Sin(float64(i*7+len(name)))) * 0.5
			}
			if err := b.WriteF32(x, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("x", backend.F32, n, h, w, c)
	mk("qx", backend.Q8, n, h, w, c)
	mk("w", backend.F32, oc, k)
	mk("qw", backend.Q8, oc, k)
	mk("cols", backend.Q8, rows, k)
	mk("fcols", backend.F32, rows, k)
	mk("acc", backend.I32, rows, oc)
	mk("sa", backend.I32, rows)
	mk("sb", backend.I32, oc)
	mk("bias", backend.F32, oc)
	for _, v := range []string{"y", "yc", "xhat", "ybn", "dy", "dyc", "dybn", "ybnr", "xhatr", "dybnr"} {
		mk(v, backend.F32, rows, oc)
	}
	for _, v := range []string{"mean", "cmean", "invstd", "gamma", "beta", "runMean", "runVar", "cgamma", "cbeta", "crunMean",
		"dgamma", "dbeta", "dcgamma", "dcbeta", "db", "dS", "dZ"} {
		mk(v, backend.F32, oc)
	}
	mk("pool", backend.F32, n, ph, pw, oc)
	mk("arg", backend.I32, n, ph, pw, oc)
	mk("dpool", backend.F32, n, ph, pw, oc)
	mk("wfc", backend.F32, classes, feat)
	mk("bfc", backend.F32, classes)
	mk("out", backend.F32, n, classes)
	mk("dwfc", backend.F32, classes, feat)
	mk("dbfc", backend.F32, classes)
	mk("dfeat", backend.F32, n, feat)
	mk("dcols", backend.F32, rows, k)
	mk("dimg", backend.F32, n, h, w, c)
	mk("dw", backend.F32, oc, k)
	mk("dwq", backend.F32, oc, k)
	mk("wf", backend.F32, oc, k)
	mk("mm", backend.F32, 3)
	mk("hist", backend.I32, 16)
	// Depthwise convolution and average pooling (other networks' layers).
	mk("dww", backend.F32, c, 3, 3)
	mk("qdww", backend.Q8, c, 3, 3)
	mk("dwy", backend.F32, n, oh, ow, c)
	mk("dwacc", backend.I32, n, oh, ow, c)
	mk("ddww", backend.F32, c, 3, 3)
	mk("avg", backend.F32, n, 1, 1, c)
	s.logits = make([]float32, n*classes)
	s.minmax = make([]float32, 3)
	s.counts = make([]int32, 16)
	return s
}

// step records one step and waits for it.
func (s *stepOps) step() error {
	b, t := s.b, s.t
	b.MinMax(t["mm"], t["x"])
	b.Histogram(t["hist"], t["x"], -1, 1)
	b.Quantize(t["qx"], t["x"], s.pa)
	b.Quantize(t["qw"], t["w"], s.pw)
	b.Im2ColI(t["cols"], t["qx"], s.g, s.pa.Zero[0])
	b.GemmI(t["acc"], t["cols"], t["qw"])
	b.RowSumI(t["sa"], t["cols"])
	b.RowSumI(t["sb"], t["qw"])
	b.Dequant(t["y"], t["acc"], t["sa"], t["sb"], s.g.K(), s.pa, s.pw, t["bias"])
	b.CompensateTrain(t["yc"], t["cmean"], t["y"], t["cgamma"], t["cbeta"], t["crunMean"], 0.1)
	b.BatchNormTrain(t["ybn"], t["xhat"], t["mean"], t["invstd"], t["yc"], t["gamma"], t["beta"], t["runMean"], t["runVar"], 0.1, 1e-5)
	b.ReLU(t["ybn"], t["ybn"])
	img, err := b.Reshape(t["ybn"], s.convShape[:]...)
	if err != nil {
		return err
	}
	b.MaxPool(t["pool"], t["arg"], img, s.pg)
	feat, err := b.Reshape(t["pool"], s.fcShape[:]...)
	if err != nil {
		return err
	}
	b.Gemm(t["out"], feat, t["wfc"], false, true, 1, 0)
	b.AddBias(t["out"], t["bfc"])
	if err := b.ReadF32(t["out"], s.logits); err != nil {
		return err
	}
	if err := b.ReadF32(t["mm"], s.minmax); err != nil {
		return err
	}
	if err := b.ReadI32(t["hist"], s.counts); err != nil {
		return err
	}
	// Backward: the logits' gradient stands in for the loss's.
	b.ColSum(t["dbfc"], t["out"])
	b.Gemm(t["dwfc"], t["out"], feat, true, false, 1, 0)
	dfeat, err := b.Reshape(t["dfeat"], s.fcShape[:]...)
	if err != nil {
		return err
	}
	b.Gemm(dfeat, t["out"], t["wfc"], false, false, 1, 0)
	dpool, err := b.Reshape(dfeat, s.imgShape[:]...)
	if err != nil {
		return err
	}
	dimg, err := b.Reshape(t["dy"], s.convShape[:]...)
	if err != nil {
		return err
	}
	b.MaxPoolGrad(dimg, dpool, t["arg"], s.pg)
	b.ReLUGrad(t["dy"], t["dy"], t["ybn"])
	b.BatchNormGrad(t["dybn"], t["dgamma"], t["dbeta"], t["dy"], t["xhat"], t["invstd"], t["gamma"])
	// The fused batch norm + ReLU (FusedBNReLU), forward and backward.
	b.BatchNormReLUTrain(t["ybnr"], t["xhatr"], t["mean"], t["invstd"], t["yc"], t["gamma"], t["beta"], t["runMean"], t["runVar"], 0.1, 1e-5)
	b.BatchNormReLUGrad(t["dybnr"], t["dgamma"], t["dbeta"], t["dy"], t["ybnr"], t["xhatr"], t["invstd"], t["gamma"])
	b.CompensateGrad(t["dyc"], t["dcgamma"], t["dcbeta"], t["dybn"], t["cmean"], t["cgamma"], true)
	b.ColSum(t["db"], t["dyc"])
	b.Im2Col(t["fcols"], t["x"], s.g)
	b.Gemm(t["dw"], t["dyc"], t["fcols"], true, false, 1, 0)
	b.Gemm(t["dcols"], t["dyc"], t["wf"], false, false, 1, 0)
	b.Col2Im(t["dimg"], t["dcols"], s.g)
	b.Dequantize(t["wf"], t["qw"], s.pw)
	b.QuantGrad(t["dwq"], t["dS"], t["dZ"], t["w"], t["dw"], s.pw)
	b.Add(t["w"], t["w"], t["dwq"])
	b.Fill(t["dS"], 0)
	b.Copy(t["dZ"], t["dS"])
	// Depthwise convolution (integer and float, with its gradients),
	// global average pooling and the inference forms.
	dg := backend.ConvGeom{N: s.g.N, H: s.g.H, W: s.g.W, C: s.g.C, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	b.Quantize(t["qdww"], t["dww"], s.pa)
	b.DWConvI(t["dwacc"], t["qx"], t["qdww"], dg, s.pa, s.pa)
	b.DWConv(t["dwy"], t["x"], t["dww"], dg)
	b.DWConvGradX(t["dimg"], t["dwy"], t["dww"], dg)
	b.DWConvGradW(t["ddww"], t["dwy"], t["x"], dg)
	oh, ow := dg.Out()
	ag := backend.PoolGeom{N: dg.N, H: oh, W: ow, C: dg.C, Size: oh, Stride: oh, SizeW: ow, StrideW: ow}
	b.AvgPool(t["avg"], t["dwy"], ag)
	b.AvgPoolGrad(t["dwy"], t["avg"], ag)
	b.BatchNormInfer(t["ybn"], t["yc"], t["gamma"], t["beta"], t["runMean"], t["runVar"], 1e-5)
	b.BatchNormReLUInfer(t["ybnr"], t["yc"], t["gamma"], t["beta"], t["runMean"], t["runVar"], 1e-5)
	b.CompensateInfer(t["yc"], t["y"], t["cgamma"], t["cbeta"], t["crunMean"])
	return b.Sync()
}

// TestStepAllocs checks that recording and running a training step's
// backend work allocates nothing on the Go heap once the kernels are
// built and the buffers sized, for every GemmI variant the device has
// (with the device's read mode) and both read modes. (Package nn's own allocations, e.g. the shape slices it
// passes to Reshape, are not counted here.)
func TestStepAllocs(t *testing.T) {
	dev := gputest.Open(t)
	type config struct{ variant, reads string }
	// Every variant with the device's read mode, the packed one also with
	// the other.
	auto := AutoReads(dev.Info())
	other := ReadsStorage
	if auto == ReadsStorage {
		other = ReadsTexel
	}
	configs := []config{{VariantPacked, other}}
	for _, v := range Variants(dev) {
		configs = append(configs, config{v, auto})
	}
	if testing.Short() {
		configs = configs[:2]
	}
	for _, c := range configs {
		t.Run(c.variant+"/"+c.reads, func(t *testing.T) {
			b, err := New(dev, Options{Variant: c.variant, Reads: c.reads})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			s := newStepOps(t, b)
			for range 2 { // kernels, scratch and parameter buffers
				if err := s.step(); err != nil {
					t.Fatal(err)
				}
			}
			var stepErr error
			n := testing.AllocsPerRun(5, func() {
				if err := s.step(); err != nil && stepErr == nil {
					stepErr = err
				}
			})
			if stepErr != nil {
				t.Fatal(stepErr)
			}
			if n != 0 {
				t.Errorf("a training step's backend work allocates %v times; want 0", n)
			}
		})
	}
}

// TestReshapeViews checks that Reshape returns the same view for the same
// shape of a storage (its cache of recent views), distinct views for other
// shapes, and that the views still share their storage.
func TestReshapeViews(t *testing.T) {
	b := newOn(t, gputest.Open(t), "")
	x, err := b.New(backend.F32, 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	view := func(src backend.Tensor, shape ...int) backend.Tensor {
		t.Helper()
		v, err := b.Reshape(src, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a, a2 := view(x, 24), view(x, 24)
	c := view(a, 2, 12)
	if a != a2 || view(c, 24) != a {
		t.Error("Reshape to the same shape gave different views")
	}
	if c == a || c == x || len(c.Shape()) != 2 || c.Shape()[1] != 12 {
		t.Errorf("Reshape to [2 12] gave %v", c.Shape())
	}
	shape := []int{3, 8}
	d := view(x, shape...)
	shape[0] = 99 // the caller's slice is not kept
	if d.Shape()[0] != 3 {
		t.Errorf("view shape %v changed with the caller's slice", d.Shape())
	}
	// More shapes than the cache holds: still correct views.
	for _, s := range [][]int{{6, 4}, {12, 2}, {8, 3}, {24, 1}, {1, 24}} {
		if v := view(x, s...); v.Len() != 24 || v.Shape()[0] != s[0] {
			t.Errorf("Reshape to %v gave %v", s, v.Shape())
		}
	}
	if err := b.WriteF32(x, make([]float32, 24)); err != nil {
		t.Fatal(err)
	}
	b.Fill(c, 2)
	got := make([]float32, 24)
	if err := b.ReadF32(view(x, 4, 6), got); err != nil {
		t.Fatal(err)
	}
	if got[0] != 2 || got[23] != 2 {
		t.Errorf("a fill through a view: %v", got)
	}
	b.Free(a)
	if _, err := b.Reshape(x, 24); err == nil {
		t.Error("Reshape after freeing a view's storage: no error")
	}
}
