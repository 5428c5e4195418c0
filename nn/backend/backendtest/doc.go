// Package backendtest is the op test suite shared by every
// backend.Backend implementation, in the manner of gonum's blas/testblas.
//
// A backend's test file runs the whole suite with
//
//	func TestBackend(t *testing.T) {
//		backendtest.TestAll(t, func(t *testing.T) backend.Backend { return myBackend(t) })
//	}
//
// or calls the per-group functions one a line (TestGemmI(t, b), ...), each
// taking a fresh backend without a recorded error.
//
// # What is checked
//
// Every test runs the op on the backend under test and on the reference
// backend (nn/ref) with the same inputs, drawn from a fixed seed, and
// compares the results: integer (I32) outputs bit for bit, and copies,
// comparisons and selections (Im2Col, ReLU, MaxPool, MinMax, Fill, Copy,
// the dx of QuantGrad) bit for bit as well; other float outputs within
// the tolerance declared for the op:
//
//	op                                  bound on |got-want|
//	Dequantize, AddBias                 TolElementwise·(1+|want|)
//	Dequant (and the integer conv)      TolDequant·(1+|want|)
//	Gemm                                TolGemm·(1+|want|)·sqrt(K)
//	ColSum, Col2Im, MaxPoolGrad,        TolSum·(1+|want|)·sqrt(n), n the number
//	QuantGrad dScale and dZero           of terms summed into the result
//	BatchNormTrain, Infer, Grad         TolBatchNorm·(1+|want|), ·sqrt(R) for dgamma and dbeta
//	Compensate*                         TolCompensate·(1+|want|), ·sqrt(R) for sums over rows
//
// Outputs are allocated pre-filled with garbage (NaN for F32, random codes
// for I32) so an op that skips an element is caught, each output is
// allocated between two guard tensors that must stay unchanged, and every
// input is read back after the op and must be unchanged.
//
// Beyond agreement with the reference, each group also checks the results
// of the backend under test against independent mathematics in float64
// (so that a wrong reference is caught when the suite runs on package ref
// itself): GemmI against a triple loop, Dequant against
// Σ(qa-za)(qb-zb)·sa·sb, the integer convolution (Im2ColI, GemmI, RowSumI,
// Dequant) against a direct convolution of the dequantized values,
// Col2Im as the adjoint of Im2Col, MaxPoolGrad, BatchNormGrad and
// CompensateGrad against central finite differences of their forward ops,
// QuantGrad against the formulas of backend.Backend, and so on.
//
// TestErrors checks the error contract: an op with a wrong dtype or a
// shape mismatch records an error naming the op, later ops are skipped and
// the first error sticks.
package backendtest
