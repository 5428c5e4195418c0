package backendtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// recorder collects the Errorf calls of a check under test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// mentions returns the recorded errors containing all of words.
func (r *recorder) mentions(words ...string) []string {
	var out []string
	for _, e := range r.errs {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(e, w)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// counted is a backend reporting fixed op counts.
type counted struct {
	backend.Backend
	counts []int
}

func (c counted) OpCounts() []int { return c.counts }

func allOnes() []int {
	c := make([]int, len(backend.Ops()))
	for i := range c {
		c[i] = 1
	}
	return c
}

func TestEveryOpHasACase(t *testing.T) {
	for _, op := range missingCases(backend.Ops(), Cases()) {
		t.Errorf("op %s has no case", op.Name)
	}
	// And every case's ops are declared ops.
	for _, c := range Cases() {
		if len(c.Ops) == 0 {
			t.Errorf("case %s lists no ops", c.Name)
		}
		for _, op := range c.Ops {
			if got, err := backend.OpByName(op.Name); err != nil || got != op {
				t.Errorf("case %s lists %s, not a declared op", c.Name, op.Name)
			}
		}
	}
}

func TestCoverageReportsOpWithoutCase(t *testing.T) {
	// A case table without the case of Histogram: every backend fails,
	// even one on which every op ran.
	var cases []Case
	for _, c := range Cases() {
		if !c.exercises(backend.OpHistogram) {
			cases = append(cases, c)
		}
	}
	if len(cases) != len(Cases())-1 {
		t.Fatalf("test bug: %d of %d cases left", len(cases), len(Cases()))
	}
	miss := missingCases(backend.Ops(), cases)
	if len(miss) != 1 || miss[0] != backend.OpHistogram {
		t.Fatalf("missingCases = %v, want [Histogram]", miss)
	}
	cov := newCoverage(cases)
	cov.Add(counted{ref.New(), allOnes()})
	r := &recorder{TB: t}
	cov.Check(r)
	if len(r.errs) != 1 || len(r.mentions("op Histogram ", "no test case")) != 1 {
		t.Fatalf("Check reported %q, want one error naming Histogram", r.errs)
	}
	// Also when the caller checks a subset of ops.
	r = &recorder{TB: t}
	cov.Check(r, backend.OpReLU)
	if len(r.mentions("op Histogram ", "no test case")) != 1 {
		t.Fatalf("Check(ReLU) reported %q, want the missing case of Histogram", r.errs)
	}
}

func TestCoverageReportsOpThatNeverRan(t *testing.T) {
	counts := allOnes()
	counts[backend.OpAvgPoolGrad.ID] = 0
	cov := NewCoverage()
	cov.Add(counted{ref.New(), counts})
	r := &recorder{TB: t}
	cov.Check(r)
	if len(r.errs) != 1 || len(r.mentions("op AvgPoolGrad never ran", "AvgPool")) != 1 {
		t.Fatalf("Check reported %q, want one error naming AvgPoolGrad", r.errs)
	}
	if nr := notRun(backend.Ops(), counts); len(nr) != 1 || nr[0] != backend.OpAvgPoolGrad {
		t.Fatalf("notRun = %v", nr)
	}
	// Counts are summed over backends: a second backend that ran it
	// completes the coverage.
	only := make([]int, backend.OpAvgPoolGrad.ID+1)
	only[backend.OpAvgPoolGrad.ID] = 2
	cov.Add(counted{ref.New(), only})
	r = &recorder{TB: t}
	cov.Check(r)
	if len(r.errs) != 0 {
		t.Fatalf("Check after the union covers every op: %q", r.errs)
	}
	// A subset check ignores the ops outside it.
	counts[backend.OpGemm.ID] = 0
	cov = NewCoverage()
	cov.Add(counted{ref.New(), counts})
	r = &recorder{TB: t}
	cov.Check(r, backend.OpGemm, backend.OpReLU)
	if len(r.errs) != 1 || len(r.mentions("op Gemm never ran")) != 1 {
		t.Fatalf("Check(Gemm, ReLU) reported %q, want Gemm only", r.errs)
	}
}

func TestCoverageNeedsOpCounts(t *testing.T) {
	cov := NewCoverage()
	cov.Add(struct{ backend.Backend }{ref.New()})
	r := &recorder{TB: t}
	cov.Check(r)
	if len(r.mentions("OpCounts")) != 1 {
		t.Fatalf("Check of a backend without OpCounts reported %q", r.errs)
	}
}

// TestRunAggregates runs two small cases, each on its own fresh backend,
// and checks that the coverage is their union.
func TestRunAggregates(t *testing.T) {
	cases := []Case{
		{"relu", []*backend.Op{backend.OpReLU}, func(t *testing.T, b backend.Backend) {
			x, _ := b.New(backend.F32, 3)
			b.ReLU(x, x)
			must(t, b.Sync())
		}},
		{"fill", []*backend.Op{backend.OpFill}, func(t *testing.T, b backend.Backend) {
			x, _ := b.New(backend.F32, 3)
			b.Fill(x, 1)
			b.Fill(x, 2)
			must(t, b.Sync())
		}},
		{"gemm", []*backend.Op{backend.OpGemm}, func(t *testing.T, b backend.Backend) {
			t.Error("not selected: must not run")
		}},
	}
	made := 0
	newB := func(t *testing.T) backend.Backend { made++; return ref.New() }
	cov := newCoverage(cases)
	runCases(t, cases, newB, Config{Ops: []*backend.Op{backend.OpReLU, backend.OpFill}, Coverage: cov})
	if made != 2 {
		t.Errorf("%d backends made, want one per selected case", made)
	}
	c := cov.Counts()
	if c[backend.OpReLU.ID] != 1 || c[backend.OpFill.ID] != 2 {
		t.Errorf("counts: ReLU %d, Fill %d; want 1, 2", c[backend.OpReLU.ID], c[backend.OpFill.ID])
	}
	r := &recorder{TB: t}
	cov.Check(r, backend.OpReLU, backend.OpFill, backend.OpGemm)
	if len(r.mentions("op Gemm never ran")) != 1 || len(r.mentions("op ReLU ")) != 0 || len(r.mentions("op Fill ")) != 0 {
		t.Errorf("Check reported %q, want only Gemm", r.errs)
	}
	if len(r.mentions("no test case")) != len(backend.Ops())-3 {
		t.Errorf("Check of a 3-case table reported %d ops without a case, want %d", len(r.mentions("no test case")), len(backend.Ops())-3)
	}
}

// TestOpCalls checks that every op has a call for the derived error cases
// and that its sample is valid for the contract.
func TestOpCalls(t *testing.T) {
	calls := opCalls()
	if len(calls) != len(backend.Ops()) {
		t.Errorf("%d calls for %d ops", len(calls), len(backend.Ops()))
	}
	for _, op := range backend.Ops() {
		oc, ok := calls[op]
		if !ok {
			t.Errorf("op %s has no call", op.Name)
			continue
		}
		if _, _, err := oc.sample(op); err != nil {
			t.Errorf("%s: %v", op.Name, err)
		}
	}
}

func TestDerivedCases(t *testing.T) {
	find := func(cs []derivedCase, name string) *derivedCase {
		for i := range cs {
			if cs[i].name == name {
				return &cs[i]
			}
		}
		t.Fatalf("no derived case %q", name)
		return nil
	}
	calls := opCalls()
	cases := func(op *backend.Op) []derivedCase {
		dts, shapes, err := calls[op].sample(op)
		if err != nil {
			t.Fatal(err)
		}
		return derivedCases(op, dts, shapes)
	}
	rg := cases(backend.OpReLUGrad)
	for name, want := range map[string]string{
		"valid":              "",
		"dx/aliases_dy":      "", // MayAlias
		"dx/aliases_dy_view": "",
		"dx/aliases_y":       "output dx shares storage with input y",
		"dx/aliases_y_view":  "output dx shares storage with input y",
		"y/dtype_i32":        "y is i32",
		"dy/dtype_q8":        "dy is q8",
		"dx/nil":             "dx ",
		"y/freed":            "y ",
		"dy/other_backend":   "dy ",
	} {
		if c := find(rg, name); c.want != want {
			t.Errorf("ReLUGrad %s: want %q, derived %q", name, want, c.want)
		}
	}
	// Optional operands may be nil; outputs must not share storage.
	qg := cases(backend.OpQuantGrad)
	if c := find(qg, "dx/nil_optional"); c.want != "" {
		t.Errorf("QuantGrad dx nil: want success, derived %q", c.want)
	}
	if c := find(qg, "dScale/aliases_dZero"); c.want != "outputs dScale and dZero share storage" {
		t.Errorf("QuantGrad dScale/dZero: derived %q", c.want)
	}
	// Copy's operands take each other's dtype: the later one is named.
	cp := cases(backend.OpCopy)
	if c := find(cp, "dst/dtype_i32"); c.want != "src is f32" {
		t.Errorf("Copy dst i32: derived %q, want src is f32", c.want)
	}
	if c := find(cp, "src/dtype_q8"); c.want != "src is q8" {
		t.Errorf("Copy src q8: derived %q, want src is q8", c.want)
	}
	if c := find(cp, "dst/aliases_src"); c.want != "" {
		t.Errorf("Copy dst/src: derived %q, want success", c.want)
	}
	// Every op gets a failing case for each operand and each kind.
	for _, op := range backend.Ops() {
		cs := cases(op)
		for _, od := range op.Operands {
			for _, suffix := range []string{"/freed", "/other_backend", "/foreign_type"} {
				if c := find(cs, od.Name+suffix); c.want == "" {
					t.Errorf("%s %s: derived no error", op.Name, c.name)
				}
			}
		}
	}
}

func TestEveryOpDeclaresTraffic(t *testing.T) {
	for _, op := range missingTraffic(backend.Ops()) {
		t.Errorf("op %s declares no traffic", op.Name)
	}
}

func TestCoverageReportsOpWithoutTraffic(t *testing.T) {
	// An op declared without a traffic rule (and a case that lists it):
	// Check fails on a backend on which every op ran.
	undeclared := &backend.Op{Name: "Undeclared", ID: len(backend.Ops())}
	cases := append(Cases(), Case{Name: "Undeclared", Ops: []*backend.Op{undeclared}})
	if miss := missingTraffic(append(backend.Ops(), undeclared)); len(miss) != 1 || miss[0] != undeclared {
		t.Fatalf("missingTraffic = %v, want [Undeclared]", miss)
	}
	cov := newCoverage(cases)
	cov.ops = append(cov.ops, undeclared)
	cov.counts = append(cov.counts, 1)
	cov.Add(counted{ref.New(), allOnes()})
	r := &recorder{TB: t}
	cov.Check(r)
	if len(r.errs) != 1 || len(r.mentions("op Undeclared ", "declares no traffic")) != 1 {
		t.Fatalf("Check reported %q, want one error naming Undeclared's missing traffic", r.errs)
	}
}
