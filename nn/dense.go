package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/quant"
)

// QuantConfig configures the quantized layers of a model.
type QuantConfig struct {
	// Float turns quantization off: the same layers run float products
	// (the comparison mode of the issue).
	Float bool
	// Bits is the code width, 2..8, of inputs and weights.
	Bits int
	// Mode chooses learned (LSQ+) or statistics-driven scale/zero point.
	Mode QuantMode
	// Method is the calibration rule used to initialise (learned) or set
	// (stats) ranges: min/max, percentile or MSE.
	Method quant.Method
	// PerTensorWeights uses one weight scale per layer instead of one per
	// output channel.
	PerTensorWeights bool
	// AsymmetricWeights gives weights a (trainable) zero point; by default
	// they are symmetric (zero point 0).
	AsymmetricWeights bool
	// Momentum of the moving-average activation ranges (default 0.9).
	Momentum float32
	// InputBits is the code width, 2..8, of the quantizers of the layers
	// that read the model input (the image: 8-bit data to begin with); 0
	// means Bits. Low-bit networks usually keep the image at 8 bits (as
	// the LSQ paper does): quantizing it further drops information the
	// data had, and only in the first layer's products.
	InputBits int
	// OutputBits is the code width, 2..8, of the weights and the input of
	// the last quantized layer (the one that computes the logits); 0 means
	// Bits. Low-bit networks usually keep that layer at 8 bits (as the LSQ
	// paper does): it is a small share of the products, and its codes
	// decide the classes directly.
	OutputBits int
	// InputStats gives the quantizers of the layers that read the model
	// input scales and zero points from the input's statistics (as
	// QuantStats: a moving average of each batch's min/max) whatever Mode
	// says. The input's range is the data's: learning its scale needs the
	// first layer's input gradient, which nothing else uses and which is a
	// large share of an image net's backward pass; for 8-bit images a
	// min/max scale represents every pixel exactly, and the learned
	// scale's gradient is then zero anyway.
	InputStats bool

	// readsInput marks the configuration of a layer that reads the model
	// input (set by Build).
	readsInput bool
	// writesOutput marks the configuration of the last quantized layer
	// (set by Build).
	writesOutput bool
	// init is the model's weight initialisation (set by Build).
	init Init
}

// inputBits returns the code width of the layer's input quantizer.
func (c QuantConfig) inputBits() int {
	switch {
	case c.readsInput && c.InputBits != 0:
		return c.InputBits
	case c.writesOutput && c.OutputBits != 0:
		return c.OutputBits
	}
	return c.Bits
}

// weightBits returns the code width of the layer's weight quantizer.
func (c QuantConfig) weightBits() int {
	if c.writesOutput && c.OutputBits != 0 {
		return c.OutputBits
	}
	return c.Bits
}

func (c QuantConfig) withDefaults() QuantConfig {
	if c.Bits == 0 {
		c.Bits = 8
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
	return c
}

// Validate reports a bad configuration.
func (c QuantConfig) Validate() error {
	c = c.withDefaults()
	if c.Float {
		return nil
	}
	if c.InputBits != 0 {
		if err := quant.Activations(c.InputBits).Validate(); err != nil {
			return fmt.Errorf("input bits: %w", err)
		}
	}
	if c.OutputBits != 0 {
		if err := quant.Weights(c.OutputBits).Validate(); err != nil {
			return fmt.Errorf("output bits: %w", err)
		}
	}
	return quant.Weights(c.Bits).Validate()
}

// dense is the integer matrix product shared by Conv2D and Linear: the
// layer turns its input into codes arranged as a matrix cols [R, K]; dense
// multiplies them with the weight codes [Out, K] in int32 and dequantizes
// exactly to a float [R, Out]. In float mode the same matrices are float.
type dense struct {
	name   string
	out, k int
	cfg    QuantConfig
	W, B   *Param
	wq, xq *Quantizer // nil in float mode

	b   backend.Backend
	w2  backend.Tensor // [out, k] view of W.Value, made at bind
	gw2 backend.Tensor // [out, k] view of W.GradT, made at bind
	qw  backend.Tensor // I32 [out, k] weight codes
	sw  backend.Tensor // I32 [out] row sums of qw (nil: not used, noRowSums)
	// noRowSums: the layer's integer product subtracts the zero points
	// itself (DWConvI), so the weight codes' row sums are not computed.
	noRowSums bool
	// fuseGemm: forwardInt runs GemmIDequant (backend.FusedGemmIDequant),
	// set by Model.Bind.
	fuseGemm bool
	wHat     backend.Tensor // F32 [out, k] dequantized weights (backward)
	dWHat    backend.Tensor // F32 [out, k] gradient w.r.t. wHat
	qwGen    *ParamsVersion // Context.Params whose weights qw holds (nil: none)
	qwState  uint64         // and its State then

	// fuseQuant: the input's statistics and codes are computed by
	// QuantizeMinMax (backend.FusedQuantize), set by Model.Bind; fed is
	// the hand-over of codes that the layer producing the input wrote
	// (see quantFeed).
	fuseQuant bool
	fed       quantFeed

	// fuseWeights: prepareWeights runs QuantizeWeights and Linear's
	// backward DenseGradWQ (backend.FusedWeightGrad), set by Model.Bind.
	// wHatOK: wHat holds the dequantized codes of qw (QuantizeWeights
	// wrote them with the codes), so backward need not dequantize them.
	fuseWeights bool
	wHatOK      bool
}

func newDense(name string, out, k int, wshape []int, cfg QuantConfig, rng *rand.Rand) *dense {
	cfg = cfg.withDefaults()
	d := &dense{name: name, out: out, k: k, cfg: cfg}
	d.W = newParam(name+".weight", KindWeight, wshape...)
	d.B = newParam(name+".bias", KindBias, out)
	if cfg.init == InitUniform {
		bound := 1 / math.Sqrt(float64(k))
		for i := range d.W.Data {
			d.W.Data[i] = float32((2*rng.Float64() - 1) * bound)
		}
		for i := range d.B.Data {
			d.B.Data[i] = float32((2*rng.Float64() - 1) * bound)
		}
	} else {
		std := math.Sqrt(2 / float64(k)) // He initialisation for ReLU networks
		for i := range d.W.Data {
			d.W.Data[i] = float32(rng.NormFloat64() * std)
		}
	}
	if !cfg.Float {
		ch := out
		if cfg.PerTensorWeights {
			ch = 1
		}
		d.wq = newQuantizer(name+".wq", quant.Weights(cfg.weightBits()), cfg.Mode, cfg.Method, ch, !cfg.AsymmetricWeights, cfg.Momentum)
		xmode := cfg.Mode
		if cfg.readsInput && cfg.InputStats {
			xmode = QuantStats
		}
		d.xq = newQuantizer(name+".xq", quant.Activations(cfg.inputBits()), xmode, cfg.Method, 1, false, cfg.Momentum)
	}
	return d
}

func (d *dense) params() []*Param {
	ps := []*Param{d.W, d.B}
	if d.wq != nil {
		ps = append(ps, d.wq.params()...)
		ps = append(ps, d.xq.params()...)
	}
	return ps
}

func (d *dense) bind(b backend.Backend) error {
	d.release()
	d.b = b
	d.qwGen = nil
	if err := d.W.bind(b, true, true); err != nil {
		return err
	}
	if err := d.B.bind(b, true, true); err != nil {
		return err
	}
	var err error
	if d.w2, err = b.Reshape(d.W.Value, d.out, d.k); err != nil {
		return err
	}
	if d.gw2, err = b.Reshape(d.W.GradT, d.out, d.k); err != nil {
		return err
	}
	if d.wq == nil {
		return nil
	}
	for _, p := range append(d.wq.params(), d.xq.params()...) {
		if err := p.bind(b, false, true); err != nil {
			return err
		}
	}
	alloc := func(dt backend.DType, shape ...int) backend.Tensor {
		if err != nil {
			return nil
		}
		var t backend.Tensor
		t, err = b.New(dt, shape...)
		return t
	}
	d.qw = alloc(backend.Q8, d.out, d.k)
	if !d.noRowSums {
		d.sw = alloc(backend.I32, d.out)
	}
	d.wHat = alloc(backend.F32, d.out, d.k)
	d.dWHat = alloc(backend.F32, d.out, d.k)
	return err
}

func (d *dense) release() {
	if d.b == nil {
		return
	}
	for _, p := range d.params() {
		p.unbind(d.b)
	}
	for _, t := range []backend.Tensor{d.qw, d.sw, d.wHat, d.dWHat} {
		d.b.Free(t)
	}
	d.qw, d.sw, d.wHat, d.dWHat = nil, nil, nil, nil
	d.w2, d.gw2 = nil, nil
	d.b = nil
}

// prepareWeights quantizes the weights for this pass (S100 for W). In
// inference the codes of unchanged parameters are reused.
func (d *dense) prepareWeights(c *Context) error {
	if d.wq == nil {
		return nil
	}
	if !c.Train && c.Params != nil && d.qwGen == c.Params && d.qwState == c.Params.State() && d.b == c.B {
		return nil
	}
	d.qwGen = nil
	if !c.Train {
		defer func() { d.qwGen, d.qwState = c.Params, c.Params.State() }()
	}
	switch {
	case !d.wq.ready:
		if err := d.wq.calibrateWeights(d.W.Data, d.cfg.Method); err != nil {
			return err
		}
	case c.Train && d.cfg.Mode == QuantStats:
		// Every step: per-channel min/max of the current weights (the
		// histogram methods cost tens of ms per channel, too much per step).
		if err := d.wq.calibrateWeights(d.W.Data, quant.MethodMinMax); err != nil {
			return err
		}
	}
	if f := c.abil().weights; f != nil && d.fuseWeights {
		// Codes, row sums and, for the backward pass, their dequantized
		// values in one op.
		var sw, what backend.Tensor
		if !d.noRowSums {
			sw = d.sw
		}
		if c.Train {
			what = d.wHat
		}
		f.QuantizeWeights(d.qw, sw, what, d.w2, d.wq.Spec())
		d.wHatOK = c.Train
		return nil
	}
	d.wHatOK = false
	c.B.Quantize(d.qw, d.w2, d.wq.Spec())
	if !d.noRowSums {
		c.B.RowSumI(d.sw, d.qw)
	}
	return nil
}

// dequantWeights makes wHat the dequantized weight codes of this pass,
// unless prepareWeights already wrote them.
func (d *dense) dequantWeights(b backend.Backend, spec backend.QuantSpec) {
	if !d.wHatOK {
		b.Dequantize(d.wHat, d.qw, spec)
	}
}

// prepareInput makes sure the input quantizer has parameters, calibrating
// them on this batch the first time (one host read).
func (d *dense) prepareInput(c *Context, x backend.Tensor) error {
	if d.xq == nil || d.xq.ready {
		return nil
	}
	host := make([]float32, x.Len())
	if err := c.B.ReadF32(x, host); err != nil {
		return err
	}
	p, err := quant.Calibrate(host, d.xq.scheme, d.cfg.Method)
	if err != nil {
		return fmt.Errorf("%s: calibrating input: %w", d.name, err)
	}
	d.xq.set(0, p)
	lo, hi, _ := quant.MinMax(host)
	d.xq.ema.Momentum = d.cfg.Momentum
	d.xq.ema.Update(lo, hi)
	d.xq.ready = true
	return nil
}

// forwardInt multiplies input codes colsI [R, K] by the weight codes and
// dequantizes into y [R, out] (S200.1 and S200.2).
func (d *dense) forwardInt(c *Context, y, acc, sa, colsI backend.Tensor) {
	b := c.B
	if f := c.abil().gemm; f != nil && d.fuseGemm {
		f.GemmIDequant(y, colsI, d.qw, d.sw, d.B.Value, d.xq.Spec(), d.wq.Spec())
		return
	}
	b.GemmI(acc, colsI, d.qw)
	b.RowSumI(sa, colsI)
	b.Dequant(y, acc, sa, d.sw, d.k, d.xq.Spec(), d.wq.Spec(), d.B.Value)
}

// forwardFloat computes y = cols·Wᵀ + b in float.
func (d *dense) forwardFloat(c *Context, y, colsF backend.Tensor) error {
	c.B.Gemm(y, colsF, d.w2, false, true, 1, 0)
	c.B.AddBias(y, d.B.Value)
	return nil
}

// backward computes the weight and bias gradients from dy [R, out] and the
// float input matrix colsF [R, K] (x̂ in quantized mode), and, when dcols
// is not nil, the gradient with respect to colsF.
func (d *dense) backward(c *Context, dy, colsF, dcols backend.Tensor) error {
	b := c.B
	b.ColSum(d.B.GradT, dy)
	if d.wq == nil {
		b.Gemm(d.gw2, dy, colsF, true, false, 1, 0)
		if dcols != nil {
			b.Gemm(dcols, dy, d.w2, false, false, 1, 0)
		}
		return nil
	}
	spec := d.wq.Spec()
	d.dequantWeights(b, spec)
	b.Gemm(d.dWHat, dy, colsF, true, false, 1, 0)
	if dcols != nil {
		b.Gemm(dcols, dy, d.wHat, false, false, 1, 0)
	}
	// Straight-through weight gradient and the scale/zero gradients (S300).
	b.QuantGrad(d.gw2, d.wq.Scale.GradT, d.wq.Zero.GradT, d.w2, d.dWHat, spec)
	return nil
}

// scaleQuantGrads turns the quantizer gradients, when they reach the
// host, into the steps SGD.Step takes: LSQ's gradient scaling for scales
// and zero points, and for scales the log-domain form of LSQ's step (see
// Quantizer.logScaleGrads).
func (d *dense) scaleQuantGrads(inputLen int) {
	if d.wq == nil {
		return
	}
	perCh := d.out * d.k / d.wq.channels
	gs := d.wq.gradScale(perCh)
	for i := range d.wq.Scale.Grad {
		d.wq.Scale.Grad[i] *= gs
		d.wq.Zero.Grad[i] *= gs
	}
	gx := d.xq.gradScale(inputLen)
	d.xq.Scale.Grad[0] *= gx
	d.xq.Zero.Grad[0] *= gx
	d.wq.logScaleGrads(d.wq.weightRefScales(d.W.Data))
	d.xq.logScaleGrads(d.xq.activationRefScale())
}
