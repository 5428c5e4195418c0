// Package backendtest is the op test suite shared by every
// backend.Backend implementation, in the manner of gonum's blas/testblas.
//
// # Running it
//
// A backend's test file runs the whole suite with
//
//	func TestBackend(t *testing.T) {
//		backendtest.TestAll(t, func(t *testing.T) backend.Backend { return myBackend(t) })
//	}
//
// TestAll runs every case of Cases, each as a subtest on a fresh backend
// from the function (which the suite closes after the case; a Close error
// fails it), then the coverage check, then TestErrors.
//
// The suite is keyed by op: a Case names the ops of backend.Ops() that it
// runs (one case may run several, as ConvI runs Im2ColI, GemmI, RowSumI
// and Dequant), and CasesFor(op) lists the cases of one op. A backend
// tested in several configurations runs subsets with Run and checks the
// union of their coverage once:
//
//	cov := backendtest.NewCoverage()
//	backendtest.Run(t, newFast, backendtest.Config{Ops: []*backend.Op{backend.OpGemmI}, Coverage: cov})
//	backendtest.Run(t, newDefault, backendtest.Config{Coverage: cov})
//	cov.Check(t) // or cov.Check(t, ops...) for a subset
//
// Config.Ops selects the cases that exercise at least one of the given
// ops (all cases when empty). Without Config.Coverage, Run checks the
// coverage of the ops of the cases it ran by itself. The per-case
// functions (TestGemmI(t, b), ...) remain exported for tests that tune a
// backend before running one case.
//
// # Coverage
//
// Coverage.Check fails, on every backend, for each op of backend.Ops()
// that no case lists (so an op added to the contract is never silently
// untested), and for each op that never ran on the backends under test.
// "Ran" means passed the contract's checks: the backend counts such calls
// as a backend.OpCounter and reports them through OpCountReporter,
// OpCounts() []int indexed by backend.Op.ID; counts are summed over the
// fresh backends of all cases (and all Run calls sharing a Coverage). A
// backend without OpCounts fails the check.
//
// # What is checked
//
// Every case runs the op on the backend under test and on the reference
// backend (nn/ref) with the same inputs, drawn from a fixed seed, and
// compares the results: integer (I32) outputs bit for bit, and copies,
// comparisons and selections (Im2Col, ReLU, MaxPool, MinMax, Fill, Copy,
// the dx of QuantGrad) bit for bit as well; other float outputs within
// the tolerance declared for the op:
//
//	op                                  bound on |got-want|
//	Dequantize, AddBias, Add            TolElementwise·(1+|want|)
//	Dequant (and the integer convs)     TolDequant·(1+|want|)
//	Gemm                                TolGemm·(1+|want|)·sqrt(K)
//	ColSum, Col2Im, MaxPoolGrad,        TolSum·(1+|want|)·sqrt(n), n the number
//	QuantGrad dScale and dZero,          of terms summed into the result (the
//	AvgPool, AvgPoolGrad, DWConv,        window, the windows or taps reading an
//	DWConvGradX, DWConvGradW             element, N·OH·OW for DWConvGradW)
//	BatchNormTrain, Infer, Grad         TolBatchNorm·(1+|want|), ·sqrt(R) for dgamma and dbeta
//	Compensate*                         TolCompensate·(1+|want|), ·sqrt(R) for sums over rows
//
// Outputs are allocated pre-filled with garbage (NaN for F32, random codes
// for I32) so an op that skips an element is caught, each output is
// allocated between two guard tensors that must stay unchanged, and every
// input is read back after the op and must be unchanged.
//
// Beyond agreement with the reference, each case also checks the results
// of the backend under test against independent mathematics in float64
// (so that a wrong reference is caught when the suite runs on package ref
// itself): GemmI against a triple loop, Dequant against
// Σ(qa-za)(qb-zb)·sa·sb, the integer convolutions (Im2ColI, GemmI,
// RowSumI, Dequant; DWConvI then Dequant) against direct convolutions of
// the dequantized values, Col2Im as the adjoint of Im2Col, MaxPoolGrad,
// AvgPoolGrad, DWConvGradX, DWConvGradW, BatchNormGrad and CompensateGrad
// against central finite differences of their forward ops, QuantGrad
// against the formulas of backend.Backend, Add against the correctly
// rounded sum, and so on. Shapes include long tensors that reach the
// vectorised main loops of parallel kernels (ReLU of 2^18 elements,
// QuantGrad slices of 70 000).
//
// # Errors
//
// TestErrors checks the error contract. For every op of backend.Ops() it
// derives, from the op's declaration and one valid sample call (input
// shapes and params; outputs from op.OutputShapes), calls with a wrong
// dtype for each operand, nil (and a typed nil) for each operand (an
// error for required operands, a valid call for optional ones), a freed
// tensor, another backend's tensor and a tensor of no backend, and an
// output sharing storage (the same handle, or a view) with each input or
// other output of its dtype — an error unless the declaration's MayAlias
// allows it, when the call must run. Each error must start with "Op: "
// and the operand's name, a refused call must not count as run, and the
// first error sticks through later calls. Misuses the declarations do
// not show (shapes that do not fit, bad geometries, bad quantization
// specs, non-finite or out-of-range scalars) are listed per op.
package backendtest
