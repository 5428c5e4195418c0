package nn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vktrain/vktrain/nn/backend"
)

// Models are directed acyclic graphs of layers. A LayerSpec reads the
// previous layer of the spec unless its Inputs name others ("input" is the
// model input); the spec order must be topological. Blocks (res) expand
// into named layers once the shape they read is known.

// InputName is the name under which layers read the model input.
const InputName = "input"

// maxName bounds the length of a layer name.
const maxName = 128

// node is one layer of a resolved graph.
type node struct {
	// spec has its Name set, its canonical Type and Inputs naming the
	// nodes in (InputName for the model input).
	spec LayerSpec
	kind *layerKind
	// in are the input nodes; -1 is the model input.
	in []int
	// shape is the output shape of one example (nil when the graph was
	// compiled without an input shape).
	shape []int
}

// checkName reports a layer name that cannot be used.
func checkName(n string) error {
	if n == InputName {
		return fmt.Errorf("the name %q is reserved for the model input", n)
	}
	if len(n) > maxName {
		return fmt.Errorf("name %.20q… is longer than %d bytes", n, maxName)
	}
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || i > 0 && (r == '.' || r == '-')
		if !ok {
			return fmt.Errorf("name %q: use letters, digits, '_' (and '.', '-' after the first character)", n)
		}
	}
	return nil
}

// nameLayers copies layers with canonical types and every layer named:
// unnamed layers get TYPE1, TYPE2, … (counting the unnamed layers of each
// type, skipping names already taken). It checks each layer's fields.
func nameLayers(layers []LayerSpec) ([]LayerSpec, error) {
	out := make([]LayerSpec, len(layers))
	taken := map[string]bool{InputName: true}
	for i, l := range layers {
		k := kindOf(l.Type)
		if k == nil {
			return nil, fmt.Errorf("model spec: layer %d: unknown type %q (want %s)", i+1, l.Type, kindNamesList())
		}
		l.Type = k.name
		l.Inputs = slices.Clone(l.Inputs)
		k.fill(&l)
		if err := k.check(l); err != nil {
			return nil, fmt.Errorf("model spec: layer %d (%s): %w", i+1, k.format(l), err)
		}
		if l.Name != "" {
			if err := checkName(l.Name); err != nil {
				return nil, fmt.Errorf("model spec: layer %d (%s): %w", i+1, k.format(l), err)
			}
			if taken[l.Name] {
				return nil, fmt.Errorf("model spec: layer %d (%s): duplicate layer name %q", i+1, k.format(l), l.Name)
			}
			taken[l.Name] = true
		}
		out[i] = l
	}
	count := map[string]int{}
	for i := range out {
		for out[i].Name == "" {
			count[out[i].Type]++
			if n := fmt.Sprintf("%s%d", out[i].Type, count[out[i].Type]); !taken[n] {
				out[i].Name, taken[n] = n, true
			}
		}
	}
	return out, nil
}

// compiler resolves a spec into nodes.
type compiler struct {
	input []int // per-example input shape; nil: structure only
	opts  Options
	pos   map[string]int // spec layer name -> index in the spec
	ref   map[string]int // name -> node (-1: the input); dropped layers alias their input
	nodes []node
}

func (c *compiler) nameOf(i int) string {
	if i < 0 {
		return InputName
	}
	return c.nodes[i].spec.Name
}

func (c *compiler) shapeOf(i int) []int {
	if i < 0 {
		return c.input
	}
	return c.nodes[i].shape
}

// add resolves layer l, the spec's layer number pos (0-based), which
// reads prev unless its Inputs say otherwise.
func (c *compiler) add(pos int, l LayerSpec, prev string) error {
	k := kindOf(l.Type)
	where := fmt.Sprintf("layer %d (%s %s)", pos+1, l.Name, k.format(l))
	names := l.Inputs
	switch {
	case len(names) == 0:
		names = []string{prev}
	case len(names) == 1 && k.inputs == 2:
		names = []string{prev, names[0]}
	}
	if len(names) != k.inputs {
		return fmt.Errorf("model spec: %s has %d inputs %q; %s takes %d", where, len(names), names, k.name, k.inputs)
	}
	in := make([]int, len(names))
	for j, n := range names {
		r, ok := c.ref[n]
		if !ok {
			if p, known := c.pos[n]; known && p >= pos {
				return fmt.Errorf("model spec: %s reads %q, which is not listed before it: layers must come in topological order (an input is always an earlier layer, so there are no cycles)", where, n)
			}
			return fmt.Errorf("model spec: %s reads %q: no layer before it has that name (the model input is %q)", where, n, InputName)
		}
		in[j] = r
	}
	if _, dup := c.ref[l.Name]; dup {
		return fmt.Errorf("model spec: %s: duplicate layer name %q", where, l.Name)
	}
	if k.dropped != nil && k.dropped(c.opts) {
		c.ref[l.Name] = in[0]
		return nil
	}
	if k.expand != nil && c.input != nil {
		for _, e := range k.expand(l, c.nameOf(in[0]), c.shapeOf(in[0])) {
			if err := c.add(pos, e, ""); err != nil {
				return err
			}
		}
		if _, ok := c.ref[l.Name]; !ok {
			return fmt.Errorf("model spec: %s: the block has no layer named %q", where, l.Name)
		}
		return nil
	}
	n := node{spec: l, kind: k, in: in}
	n.spec.Inputs = make([]string, len(in))
	for j, r := range in {
		n.spec.Inputs[j] = c.nameOf(r)
	}
	if c.input != nil {
		shapes := make([][]int, len(in))
		for j, r := range in {
			shapes[j] = c.shapeOf(r)
		}
		s, err := k.shape(n.spec, shapes)
		if err != nil {
			return fmt.Errorf("model: %s: %w", l.Name, err)
		}
		n.shape = s
	}
	c.ref[l.Name] = len(c.nodes)
	c.nodes = append(c.nodes, n)
	return nil
}

// compile resolves layers into graph nodes: it names them, resolves their
// inputs, drops the layers the ablations of opts remove (their readers
// read their input), and, with a per-example input shape, expands blocks
// and infers every output shape (without allocating anything for the
// layers). With input nil it checks the structure only (names, inputs,
// order), keeping blocks as single nodes. The last node is the output;
// every other node's output must be read.
func compile(input []int, layers []LayerSpec, opts Options) ([]node, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("model spec: no layers")
	}
	specs, err := nameLayers(layers)
	if err != nil {
		return nil, err
	}
	c := &compiler{input: input, opts: opts, pos: map[string]int{}, ref: map[string]int{InputName: -1}}
	for i, l := range specs {
		c.pos[l.Name] = i
	}
	prev := InputName
	for i, l := range specs {
		if err := c.add(i, l, prev); err != nil {
			return nil, err
		}
		prev = l.Name
	}
	if len(c.nodes) == 0 {
		return nil, fmt.Errorf("model spec: no layers left (all removed by the ablations)")
	}
	uses := make([]int, len(c.nodes))
	for _, n := range c.nodes {
		for _, j := range n.in {
			if j >= 0 {
				uses[j]++
			}
		}
	}
	for i, u := range uses {
		if u == 0 && i != len(c.nodes)-1 {
			return nil, fmt.Errorf("model spec: the output of layer %s is never read (only the last layer's output, the model's, may go unread)", c.nodes[i].spec.Name)
		}
	}
	if out := c.ref[prev]; out != len(c.nodes)-1 {
		return nil, fmt.Errorf("model spec: the model's output %s (what the last layer %s reads after the ablations) is not the last layer %s", c.nameOf(out), prev, c.nodes[len(c.nodes)-1].spec.Name)
	}
	return c.nodes, nil
}

// normalSpecs returns the layers of nodes in stored form: every layer
// named, Inputs omitted where a one-input layer reads the layer before it.
func normalSpecs(nodes []node) []LayerSpec {
	ls := make([]LayerSpec, len(nodes))
	for i, n := range nodes {
		ls[i] = n.spec
		ls[i].Inputs = slices.Clone(n.spec.Inputs)
		if n.kind.inputs == 1 && n.in[0] == i-1 {
			ls[i].Inputs = nil
		}
	}
	return ls
}

func equalSpec(a, b LayerSpec) bool {
	return a.Type == b.Type && a.Name == b.Name && slices.Equal(a.Inputs, b.Inputs) &&
		a.Out == b.Out && a.Kernel == b.Kernel && a.Stride == b.Stride && a.Pad == b.Pad && a.Size == b.Size
}

func equalNodes(a, b []node) bool {
	return slices.EqualFunc(a, b, func(x, y node) bool { return equalSpec(x.spec, y.spec) })
}

// matchRes reports whether the nodes from i on are a residual block as
// expandRes writes it, reading the node before i, and returns the block's
// short form and length.
func matchRes(nodes []node, i int) (LayerSpec, int, bool) {
	l := nodes[i].spec
	if l.Type != "conv" || !strings.HasSuffix(l.Name, ".conv1") || len(nodes[i].in) != 1 || nodes[i].in[0] != i-1 {
		return LayerSpec{}, 0, false
	}
	blk := LayerSpec{Type: "res", Name: strings.TrimSuffix(l.Name, ".conv1"), Out: l.Out, Stride: l.Stride}
	for _, in := range [][]int{{l.Out}, {l.Out + 1}} { // without, with the projection
		exp := expandRes(blk, l.Inputs[0], in)
		if len(exp) <= len(nodes)-i && slices.EqualFunc(exp, nodes[i:i+len(exp)], func(e LayerSpec, n node) bool { return equalSpec(e, n.spec) }) {
			blk.Name = ""
			return blk, len(exp), true
		}
	}
	return LayerSpec{}, 0, false
}

// compact renders m in the short syntax when that rebuilds the same graph.
func (m ModelSpec) compact() (string, bool) {
	nodes, err := compile(nil, m.Layers, Options{})
	if err != nil {
		return "", false
	}
	var toks []string
	for i := 0; i < len(nodes); {
		if blk, n, ok := matchRes(nodes, i); ok {
			toks = append(toks, kindOf("res").format(blk))
			i += n
			continue
		}
		toks = append(toks, nodes[i].kind.format(nodes[i].spec))
		i++
	}
	s := strings.Join(toks, ",")
	ls, err := ParseLayers(s)
	if err != nil {
		return "", false
	}
	if m.Input != nil {
		a, errA := compile(m.Input, ls, Options{})
		b, errB := compile(m.Input, m.Layers, Options{})
		if errA == nil && errB == nil {
			return s, equalNodes(a, b)
		}
	}
	a, err := compile(nil, ls, Options{})
	return s, err == nil && equalNodes(a, nodes)
}

// graph runs a model's layers as a DAG.
type graph struct {
	in    [][]int          // input nodes of each node (-1: the model input)
	uses  []int            // how many inputs read each node's output
	merge []MergeLayer     // the two-input layers (nil for the others)
	outs  []backend.Tensor // outputs of the last forward pass
	grads []backend.Tensor // gradients of the outputs during a backward pass
	got   []int            // gradient contributions received
	// acc holds, per batch size, the gradient sums of the nodes read more
	// than once (nil for the others).
	acc    wsCache[[]backend.Tensor]
	shared bool // some node is read more than once
}

func newGraph(nodes []node, layers []Layer) (graph, error) {
	g := graph{in: make([][]int, len(nodes)), uses: make([]int, len(nodes)), merge: make([]MergeLayer, len(nodes)),
		outs: make([]backend.Tensor, len(nodes)), grads: make([]backend.Tensor, len(nodes)), got: make([]int, len(nodes))}
	for i, n := range nodes {
		g.in[i] = n.in
		for _, j := range n.in {
			if j >= 0 {
				g.uses[j]++
				g.shared = g.shared || g.uses[j] > 1
			}
		}
		if n.kind.inputs == 2 {
			ml, ok := layers[i].(MergeLayer)
			if !ok {
				return g, fmt.Errorf("model: %s: a %s layer must take two inputs (MergeLayer)", n.spec.Name, n.kind.name)
			}
			g.merge[i] = ml
		}
	}
	return g, nil
}

func (g *graph) release() {
	g.acc.release()
	clear(g.outs)
	clear(g.grads)
}

func (g *graph) value(x backend.Tensor, i int) backend.Tensor {
	if i < 0 {
		return x
	}
	return g.outs[i]
}

// accumulators returns the gradient sums for batches of n examples,
// shaped like the outputs of the last forward pass.
func (g *graph) accumulators(b backend.Backend, n int) ([]backend.Tensor, error) {
	if !g.shared {
		return nil, nil
	}
	p, err := g.acc.get(n, func() (*[]backend.Tensor, *workspace, error) {
		w := &workspace{b: b}
		acc := make([]backend.Tensor, len(g.uses))
		for i, u := range g.uses {
			if u > 1 {
				acc[i] = w.f32(g.outs[i].Shape()...)
			}
		}
		return &acc, w, w.err
	})
	if err != nil {
		return nil, err
	}
	return *p, nil
}

// contribute adds t to the gradient of node j's output. The first
// contribution is kept as it is (it belongs to the reader that produced
// it, which does not touch it again in this pass); the sum of several goes
// to the node's own accumulator, so no reader's tensor is overwritten.
func (g *graph) contribute(b backend.Backend, acc []backend.Tensor, j int, t backend.Tensor) {
	if j < 0 {
		return
	}
	switch g.got[j] {
	case 0:
		g.grads[j] = t
	case 1:
		b.Add(acc[j], g.grads[j], t)
		g.grads[j] = acc[j]
	default:
		b.Add(acc[j], acc[j], t)
	}
	g.got[j]++
}

// forward runs the layers on x, keeping every node's output; visit, when
// not nil, sees each output and may stop the pass by returning false.
func (m *Model) forward(c *Context, x backend.Tensor, visit func(i int, y backend.Tensor) bool) (backend.Tensor, error) {
	if m.b == nil {
		return nil, fmt.Errorf("model: not bound to a backend")
	}
	g := &m.g
	for i, l := range m.Layers {
		a := g.value(x, g.in[i][0])
		var y backend.Tensor
		var err error
		if ml := g.merge[i]; ml != nil {
			y, err = ml.Forward2(c, a, g.value(x, g.in[i][1]))
		} else {
			y, err = l.Forward(c, a)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name(), err)
		}
		g.outs[i] = y
		if visit != nil && !visit(i, y) {
			return y, nil
		}
	}
	return g.outs[len(g.outs)-1], nil
}

// Forward runs the layers; the result is the logits [N, Classes].
func (m *Model) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	return m.forward(c, x, nil)
}

// Backward propagates dlogits back through the graph of the last Forward.
// The gradients of outputs read by several layers are summed (Add) in
// buffers allocated once per batch size.
func (m *Model) Backward(c *Context, dy backend.Tensor) error {
	g := &m.g
	n := len(m.Layers)
	if n == 0 || g.outs[n-1] == nil {
		return fmt.Errorf("model: Backward without Forward")
	}
	acc, err := g.accumulators(c.B, dy.Shape()[0])
	if err != nil {
		return fmt.Errorf("model: gradient sums: %w", err)
	}
	clear(g.grads)
	clear(g.got)
	g.grads[n-1], g.got[n-1] = dy, 1
	for i := n - 1; i >= 0; i-- {
		l, d := m.Layers[i], g.grads[i]
		g.grads[i] = nil
		if d == nil {
			return fmt.Errorf("%s: no gradient reached its output", l.Name())
		}
		in := g.in[i]
		if ml := g.merge[i]; ml != nil {
			da, db, err := ml.Backward2(c, d)
			if err != nil {
				return fmt.Errorf("%s: %w", l.Name(), err)
			}
			g.contribute(c.B, acc, in[0], da)
			g.contribute(c.B, acc, in[1], db)
			continue
		}
		dx, err := l.Backward(c, d, in[0] >= 0)
		if err != nil {
			return fmt.Errorf("%s: %w", l.Name(), err)
		}
		g.contribute(c.B, acc, in[0], dx)
	}
	return nil
}
