package visengine

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// The rule language of a document's json_struttura.validazione: fields $N
// (true when filled), "&&", "||" and parentheses, with "&&" binding tighter.
// Nothing else has been seen in any public example, and negation would make
// "which fields are missing" ill-defined, so anything else is refused.

// Limits that keep a hostile or broken rule from exhausting time or stack.
const (
	maxRuleLen   = 64 << 10 // bytes
	maxRuleDepth = 200      // nested parentheses
	dnfCap       = 256      // minimal DNF terms kept before giving up
	maxCanonN    = 4096     // $N with N below this live in FieldSet's bitset
)

// RuleSyntaxError reports a validazione expression that does not parse.
// Rules come from the server's document structure, not from personal data,
// so the expression is kept for Caret.
type RuleSyntaxError struct {
	Expr   string // the expression as given
	Offset int    // byte offset of the problem, in [0, len(Expr)]
	Msg    string // what is wrong, mentioning the offset
}

// Error returns a one-line description without the expression itself.
func (e *RuleSyntaxError) Error() string {
	if e == nil {
		return "visengine: <nil RuleSyntaxError>"
	}
	return "visengine: validazione: " + e.Msg
}

// caretWindow is how many bytes of the expression Caret shows on each side
// of the offset; long rules are cut so the caret stays readable.
const caretWindow = 30

// Caret renders the expression (or, when long, a window around the offset)
// on one line with a caret under the offending byte on the next. Control and
// non-ASCII bytes are shown as "?" so the caret stays aligned.
func (e *RuleSyntaxError) Caret() string {
	if e == nil {
		return ""
	}
	start, end := 0, len(e.Expr)
	off := min(max(e.Offset, 0), len(e.Expr))
	prefix, suffix := "", ""
	if off > caretWindow {
		start, prefix = off-caretWindow, "..."
	}
	if end-off > caretWindow {
		end, suffix = off+caretWindow, "..."
	}
	var b strings.Builder
	b.WriteString(prefix)
	for i := start; i < end; i++ {
		c := e.Expr[i]
		if c < 0x20 || c >= 0x7f {
			c = '?'
		}
		b.WriteByte(c)
	}
	b.WriteString(suffix)
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", len(prefix)+off-start))
	b.WriteByte('^')
	return b.String()
}

type opKind uint8

const (
	opField opKind = iota
	opAnd
	opOr
)

// node is the flattened n-ary AST: an AND never has an AND child, an OR
// never has an OR child.
type node struct {
	op    opKind
	field int // dense field index, for opField
	kids  []*node
}

// Rule is a service's validazione rule, compiled: which combinations of
// filled fields the service accepts, such as "$0 && ($1 || $2)".
// [Visura.Rule] gives a service's rule and [ParseRule] compiles any
// expression; Eval then
// says whether a set of filled fields satisfies it, and Explain what is
// still missing. A Rule is immutable and safe for concurrent use.
type Rule struct {
	// Fields are renumbered densely by field number; rules of at most 64
	// fields keep presence in a uint64 and their minimal DNF precomputed.
	keys     []string // dense index → key, ordered by field number
	canon    []int32  // dense index → N of a canonical "$N" key, or -1
	root     *node
	small    bool     // at most 64 distinct fields: presence fits a uint64
	identity bool     // keys are exactly $0..$k-1, so dense index == N
	all      uint64   // mask of every field, when small
	terms    []uint64 // minimal DNF over dense indices; nil if not small or over dnfCap
}

// ParseRule compiles a validazione expression: fields $N (true when filled),
// "&&", "||" and parentheses, "&&" binding tighter than "||". A malformed
// expression gives a *RuleSyntaxError with the byte offset of the problem.
func ParseRule(expr string) (*Rule, error) {
	if err := checkRuleSize(expr); err != nil {
		return nil, err
	}
	p := &parser{src: expr, index: map[string]int{}}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	return newRule(root, p.keys), nil
}

func checkRuleSize(expr string) error {
	if len(expr) > maxRuleLen {
		return &RuleSyntaxError{expr, maxRuleLen, fmt.Sprintf("expression longer than %d bytes (cut at byte %d)", maxRuleLen, maxRuleLen)}
	}
	if expr == "" {
		return &RuleSyntaxError{expr, 0, "empty expression at byte 0: a rule needs at least one field such as $0"}
	}
	if strings.Trim(expr, blanks) == "" {
		return &RuleSyntaxError{expr, 0, "blank expression at byte 0: a rule needs at least one field such as $0"}
	}
	return nil
}

// newRule orders the fields by number, renumbers the leaves densely in that
// order and precomputes the minimal DNF when it is small enough.
func newRule(root *node, parsed []string) *Rule {
	keys := slices.Clone(parsed)
	slices.SortFunc(keys, compareKeys)
	dense := make([]int, len(parsed))
	for i, k := range parsed {
		dense[i], _ = slices.BinarySearchFunc(keys, k, compareKeys)
	}
	renumber(root, dense)
	r := &Rule{keys: keys, canon: make([]int32, len(keys)), root: root, small: len(keys) <= 64, identity: len(keys) <= 64}
	for i, k := range keys {
		n, ok := canonIndex(k)
		r.canon[i] = int32(n)
		if !ok {
			r.canon[i] = -1
		}
		r.identity = r.identity && ok && n == i
	}
	if r.small {
		r.all = lowBits(len(keys))
		ident := make([]int, len(keys))
		for i := range ident {
			ident[i] = i
		}
		r.terms, _ = minimalDNF(root, ident)
	}
	return r
}

func renumber(n *node, dense []int) {
	if n.op == opField {
		n.field = dense[n.field]
	}
	for _, k := range n.kids {
		renumber(k, dense)
	}
}

func lowBits(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// compareKeys orders "$N" keys by the number N, then by spelling ("$1"
// before "$01").
func compareKeys(a, b string) int {
	na, nb := strings.TrimLeft(a[1:], "0"), strings.TrimLeft(b[1:], "0")
	if c := len(na) - len(nb); c != 0 {
		return c
	}
	if c := strings.Compare(na, nb); c != 0 {
		return c
	}
	if c := len(a) - len(b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// canonIndex returns N for a key spelled "$N" without leading zeros and with
// N < maxCanonN; other keys (such as "$01") are matched by their text.
func canonIndex(key string) (int, bool) {
	if len(key) < 2 || len(key) > 5 || key[0] != '$' || (key[1] == '0' && len(key) > 2) {
		return 0, false
	}
	n := 0
	for i := 1; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n < maxCanonN
}

// Fields returns the keys the rule mentions, ordered by field number (nil
// for a nil Rule).
func (r *Rule) Fields() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.keys)
}

// String returns the rule in canonical form: fields and operators separated
// by single blanks, nested groups always parenthesised. It parses back to an
// equivalent rule. A nil Rule prints as "".
func (r *Rule) String() string {
	if r == nil || r.root == nil {
		return ""
	}
	return r.format(r.root)
}

// Optional returns the fields the rule mentions but never needs, ordered by
// number: for A2, $7, which the rule lists but whose alternative without it
// is always enough. It returns nil when there are none, and also when the
// rule has over 64 fields or too many alternatives to tell cheaply.
func (r *Rule) Optional() []string {
	// A field is optional when no term of the minimal DNF contains it.
	if r == nil || r.terms == nil {
		return nil
	}
	var used uint64
	for _, t := range r.terms {
		used |= t
	}
	return r.maskKeys(r.all &^ used)
}

func (r *Rule) maskKeys(m uint64) []string {
	var out []string
	for ; m != 0; m &= m - 1 {
		out = append(out, r.keys[bits.TrailingZeros64(m)])
	}
	return out
}

func (r *Rule) format(n *node) string {
	var b strings.Builder
	r.write(&b, n, false)
	return b.String()
}

func (r *Rule) write(b *strings.Builder, n *node, nested bool) {
	if n.op == opField {
		b.WriteString(r.keys[n.field])
		return
	}
	sep := " && "
	if n.op == opOr {
		sep = " || "
	}
	if nested {
		b.WriteByte('(')
	}
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(sep)
		}
		r.write(b, k, true)
	}
	if nested {
		b.WriteByte(')')
	}
}
