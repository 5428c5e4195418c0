package backendtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// Case is one test of the suite: Test runs ops on a fresh backend b
// (without a recorded error) and compares them with the reference. Ops
// lists every op that Test runs on b; the suite keys its cases by them
// (CasesFor, Config.Ops) and the coverage check expects each of them to
// have run.
type Case struct {
	Name string
	Ops  []*backend.Op
	Test func(t *testing.T, b backend.Backend)
}

// Cases returns the suite's cases, in the order TestAll runs them. Every
// op of backend.Ops() is in the Ops of at least one case; an op declared
// without one fails Coverage.Check (and so TestAll) on every backend.
func Cases() []Case {
	return []Case{
		{"Memory", []*backend.Op{backend.OpFill, backend.OpCopy}, TestMemory},
		{"MinMax", []*backend.Op{backend.OpMinMax}, TestMinMax},
		{"Histogram", []*backend.Op{backend.OpHistogram}, TestHistogram},
		{"Quantize", []*backend.Op{backend.OpQuantize}, TestQuantize},
		{"Dequantize", []*backend.Op{backend.OpDequantize}, TestDequantize},
		{"QuantGrad", []*backend.Op{backend.OpQuantGrad}, TestQuantGrad},
		{"Im2ColI", []*backend.Op{backend.OpIm2ColI}, TestIm2ColI},
		{"GemmI", []*backend.Op{backend.OpGemmI}, TestGemmI},
		{"RowSumI", []*backend.Op{backend.OpRowSumI}, TestRowSumI},
		{"Dequant", []*backend.Op{backend.OpDequant}, TestDequant},
		{"ConvI", []*backend.Op{backend.OpIm2ColI, backend.OpGemmI, backend.OpRowSumI, backend.OpDequant}, TestConvI},
		{"GemmIDequant", []*backend.Op{backend.OpGemmIDequant}, TestGemmIDequant},
		{"FusedConv", []*backend.Op{backend.OpConvIDequant, backend.OpConvGradWQ, backend.OpConvGradX}, TestFusedConv},
		{"Gemm", []*backend.Op{backend.OpGemm}, TestGemm},
		{"Im2Col", []*backend.Op{backend.OpIm2Col}, TestIm2Col},
		{"Col2Im", []*backend.Op{backend.OpCol2Im, backend.OpIm2Col}, TestCol2Im},
		{"AddBias", []*backend.Op{backend.OpAddBias}, TestAddBias},
		{"ColSum", []*backend.Op{backend.OpColSum}, TestColSum},
		{"ReLU", []*backend.Op{backend.OpReLU, backend.OpReLUGrad}, TestReLU},
		{"MaxPool", []*backend.Op{backend.OpMaxPool, backend.OpMaxPoolGrad}, TestMaxPool},
		{"BatchNorm", []*backend.Op{backend.OpBatchNormTrain, backend.OpBatchNormInfer, backend.OpBatchNormGrad}, TestBatchNorm},
		{"BatchNormReLU", []*backend.Op{backend.OpBatchNormReLUTrain, backend.OpBatchNormReLUInfer, backend.OpBatchNormReLUGrad}, TestBatchNormReLU},
		{"Compensate", []*backend.Op{backend.OpCompensateTrain, backend.OpCompensateInfer, backend.OpCompensateGrad}, TestCompensate},
		{"CompBN", []*backend.Op{backend.OpCompBNTrain, backend.OpCompBNInfer, backend.OpCompBNGrad, backend.OpCompBNGradFromX}, TestCompBN},
		{"FusedQuantize", []*backend.Op{backend.OpQuantizeMinMax, backend.OpMaxPoolQuant, backend.OpReLUQuant, backend.OpCompBNPoolQuant}, TestFusedQuantize},
		{"FusedWeightGrad", []*backend.Op{backend.OpQuantizeWeights, backend.OpDenseGradWQ, backend.OpConvGradWQuant}, TestFusedWeightGrad},
		{"FusedStats", []*backend.Op{backend.OpConvIDequantStats, backend.OpCompBNTrainStats, backend.OpCompBNPoolQuantStats,
			backend.OpConvIDequant, backend.OpCompBNTrain, backend.OpMaxPoolQuant}, TestFusedStats},
		{"Add", []*backend.Op{backend.OpAdd}, TestAdd},
		{"AvgPool", []*backend.Op{backend.OpAvgPool, backend.OpAvgPoolGrad}, TestAvgPool},
		{"DWConvI", []*backend.Op{backend.OpDWConvI, backend.OpDequant}, TestDWConvI},
		{"DWConv", []*backend.Op{backend.OpDWConv, backend.OpDWConvGradX, backend.OpDWConvGradW}, TestDWConv},
	}
}

// CasesFor returns the cases that exercise op.
func CasesFor(op *backend.Op) []Case {
	return casesFor(Cases(), op)
}

func casesFor(cases []Case, op *backend.Op) []Case {
	var cs []Case
	for _, c := range cases {
		if c.exercises(op) {
			cs = append(cs, c)
		}
	}
	return cs
}

func (c Case) exercises(op *backend.Op) bool {
	for _, o := range c.Ops {
		if o == op {
			return true
		}
	}
	return false
}

// OpCountReporter is the ability the coverage check needs from the
// backend under test: OpCounts returns, indexed by backend.Op.ID, how
// many calls of each op passed the contract's checks (the counts the
// backend keeps as a backend.OpCounter) since the backend was made. A
// shorter slice means zero for the ops past its end.
type OpCountReporter interface {
	OpCounts() []int
}

// Coverage collects which ops ran on the backends under test, summed
// over the fresh backends that the cases run on and, when the caller
// passes one Coverage to several Run calls, over all of them (for
// instance one per backend configuration, each running a subset of the
// cases). Check then fails for every op without a case and every op that
// never ran. A Coverage is safe for concurrent use.
type Coverage struct {
	mu     sync.Mutex
	cases  []Case
	ops    []*backend.Op // the declared ops (backend.Ops(); tests substitute)
	counts []int
	// uncounted names the backends that had no OpCounts.
	uncounted []string
}

// NewCoverage returns an empty Coverage of the suite's cases.
func NewCoverage() *Coverage { return newCoverage(Cases()) }

func newCoverage(cases []Case) *Coverage {
	ops := backend.Ops()
	return &Coverage{cases: cases, ops: ops, counts: make([]int, len(ops))}
}

// Add adds the op counts of b (an OpCountReporter) to c. A backend
// without OpCounts is noted and fails Check: nothing would show that
// its ops ran.
func (c *Coverage) Add(b backend.Backend) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := b.(OpCountReporter)
	if !ok {
		c.uncounted = append(c.uncounted, fmt.Sprintf("%s (%T)", b.Name(), b))
		return
	}
	for id, n := range r.OpCounts() {
		if id < len(c.counts) {
			c.counts[id] += n
		}
	}
}

// Counts returns the summed counts, indexed by backend.Op.ID.
func (c *Coverage) Counts() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.counts...)
}

// Check reports on t (with Errorf) every op of backend.Ops() that has no
// case in the suite or declares no traffic (backend.Op.HasTraffic), and
// every op of ops (all of backend.Ops() when ops is empty) that never ran
// on the backends added to c.
func (c *Coverage) Check(t testing.TB, ops ...*backend.Op) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.ops
	for _, op := range missingCases(all, c.cases) {
		t.Errorf("op %s has no test case in package backendtest: add one to Cases (every op of backend.Ops() must be tested)", op.Name)
	}
	for _, op := range missingTraffic(all) {
		t.Errorf("op %s declares no traffic: give its declaration in nn/backend a traffic rule (the bytes it reads and writes; every op of backend.Ops() must have one)", op.Name)
	}
	if len(c.uncounted) > 0 {
		t.Errorf("backend %s has no OpCounts() []int (backendtest.OpCountReporter): cannot check that every op ran", strings.Join(c.uncounted, ", "))
		return
	}
	if len(ops) == 0 {
		ops = all
	}
	for _, op := range notRun(ops, c.counts) {
		var names []string
		for _, cs := range casesFor(c.cases, op) {
			names = append(names, cs.Name)
		}
		t.Errorf("op %s never ran on the backend under test (cases exercising it: %s): a case that does not reach it, or was not run",
			op.Name, strings.Join(names, ", "))
	}
}

// missingCases returns the ops of ops that no case of cases exercises.
func missingCases(ops []*backend.Op, cases []Case) []*backend.Op {
	var miss []*backend.Op
	for _, op := range ops {
		if len(casesFor(cases, op)) == 0 {
			miss = append(miss, op)
		}
	}
	return miss
}

// missingTraffic returns the ops of ops that declare no traffic
// (backend.Op.HasTraffic).
func missingTraffic(ops []*backend.Op) []*backend.Op {
	var miss []*backend.Op
	for _, op := range ops {
		if !op.HasTraffic() {
			miss = append(miss, op)
		}
	}
	return miss
}

// notRun returns the ops of ops whose count in counts (indexed by
// Op.ID) is zero or absent.
func notRun(ops []*backend.Op, counts []int) []*backend.Op {
	var miss []*backend.Op
	for _, op := range ops {
		if op.ID >= len(counts) || counts[op.ID] <= 0 {
			miss = append(miss, op)
		}
	}
	return miss
}

// Config selects what Run runs and where it reports coverage.
type Config struct {
	// Ops, when not empty, restricts the run to the cases that exercise
	// at least one of these ops (so Ops {GemmI} runs GemmI and ConvI).
	Ops []*backend.Op
	// Coverage, when not nil, receives the op counts of the run, and Run
	// does not check coverage: the caller checks the union of several
	// runs with Coverage.Check. When nil, Run ends with the coverage
	// check of the ops of the cases it ran (every op when Ops is empty).
	Coverage *Coverage
}

// Run runs the cases that cfg selects, each as a subtest on a fresh
// backend from newBackend that Run closes at the end of the case (after
// adding its op counts to the coverage; a Close error fails the case).
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend, cfg Config) {
	runCases(t, Cases(), newBackend, cfg)
}

func runCases(t *testing.T, cases []Case, newBackend func(t *testing.T) backend.Backend, cfg Config) {
	cov := cfg.Coverage
	if cov == nil {
		cov = newCoverage(cases)
	}
	var ran []*backend.Op // the ops of the cases run
	for _, c := range cases {
		if len(cfg.Ops) > 0 && !anyOp(c, cfg.Ops) {
			continue
		}
		for _, op := range c.Ops {
			if !contains(ran, op) {
				ran = append(ran, op)
			}
		}
		t.Run(c.Name, func(t *testing.T) {
			b := newBackend(t)
			defer func() {
				cov.Add(b)
				if err := b.Close(); err != nil && !t.Failed() {
					t.Errorf("Close after the case: %v", err)
				}
			}()
			c.Test(t, b)
		})
	}
	if cfg.Coverage == nil {
		if len(cfg.Ops) == 0 {
			ran = nil // all of backend.Ops()
		}
		t.Run("Coverage", func(t *testing.T) { cov.Check(t, ran...) })
	}
}

func anyOp(c Case, ops []*backend.Op) bool {
	for _, op := range ops {
		if c.exercises(op) {
			return true
		}
	}
	return false
}

func contains(ops []*backend.Op, op *backend.Op) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// TestAll runs the whole suite on fresh backends from newBackend: every
// case, the coverage check (every op has a case and ran) and TestErrors.
func TestAll(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	Run(t, newBackend, Config{})
	t.Run("Errors", func(t *testing.T) { TestErrors(t, newBackend) })
}
