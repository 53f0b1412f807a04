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
	return "visengine: validazione: " + e.Msg
}

// caretWindow is how many bytes of the expression Caret shows on each side
// of the offset; long rules are cut so the caret stays readable.
const caretWindow = 30

// Caret renders the expression (or, when long, a window around the offset)
// on one line with a caret under the offending byte on the next. Control and
// non-ASCII bytes are shown as "?" so the caret stays aligned.
func (e *RuleSyntaxError) Caret() string {
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

// Rule is a compiled validazione expression. It is immutable and safe for
// concurrent use.
type Rule struct {
	keys     []string // dense index → key, ordered by field number
	canon    []int32  // dense index → N of a canonical "$N" key, or -1
	root     *node
	small    bool     // at most 64 distinct fields: presence fits a uint64
	identity bool     // keys are exactly $0..$k-1, so dense index == N
	all      uint64   // mask of every field, when small
	terms    []uint64 // minimal DNF over dense indices; nil if not small or over dnfCap
}

// ParseRule compiles a validazione expression. A malformed one gives a
// *RuleSyntaxError with the byte offset of the problem.
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

// Fields returns the keys the rule mentions, ordered by field number.
func (r *Rule) Fields() []string { return slices.Clone(r.keys) }

// String returns the rule in canonical form: fields and operators separated
// by single blanks, nested groups always parenthesised. It parses back to an
// equivalent rule.
func (r *Rule) String() string { return r.format(r.root) }

// Optional returns the fields of the rule that no minimal way of satisfying
// it needs, ordered by number: for A2, $7, which the rule lists but whose
// alternative without it is always enough. It returns nil when there are
// none and also when the rule has over 64 fields or too many alternatives to
// tell cheaply.
func (r *Rule) Optional() []string {
	if r.terms == nil {
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

// FieldSet is a set of filled field keys. Keys spelled canonically ("$0",
// "$17") are kept in a bitset indexed by N, so a rule can test them without
// hashing or allocating; other spellings ("$01") go to a map. The zero value
// is an empty set.
type FieldSet struct {
	words []uint64
	other map[string]struct{}
}

// FieldSetOf returns the set of the given keys.
func FieldSetOf(keys ...string) FieldSet {
	var s FieldSet
	for _, k := range keys {
		s.Add(k)
	}
	return s
}

// Add puts key in the set.
func (s *FieldSet) Add(key string) {
	n, ok := canonIndex(key)
	if !ok {
		if s.other == nil {
			s.other = map[string]struct{}{}
		}
		s.other[key] = struct{}{}
		return
	}
	for len(s.words) <= n>>6 {
		s.words = append(s.words, 0)
	}
	s.words[n>>6] |= 1 << (n & 63)
}

// Has reports whether key is in the set.
func (s FieldSet) Has(key string) bool {
	n, ok := canonIndex(key)
	if !ok {
		n = -1
	}
	return s.has(int32(n), key)
}

func (s *FieldSet) has(n int32, key string) bool {
	if n < 0 {
		_, ok := s.other[key]
		return ok
	}
	w := int(n >> 6)
	return w < len(s.words) && s.words[w]&(1<<(n&63)) != 0
}

// Eval reports whether the fields in s satisfy the rule. It does not
// allocate: with at most 64 fields it tests the minimal DNF terms against a
// bit mask (t &^ present == 0), otherwise it walks the AST.
func (r *Rule) Eval(s FieldSet) bool {
	if !r.small {
		return r.evalSet(r.root, &s)
	}
	p := r.mask(&s)
	if r.terms == nil {
		return evalMask(r.root, p)
	}
	for _, t := range r.terms {
		if t&^p == 0 {
			return true
		}
	}
	return false
}

// mask maps s onto the rule's dense field indices.
func (r *Rule) mask(s *FieldSet) uint64 {
	if r.identity {
		if len(s.words) == 0 {
			return 0
		}
		return s.words[0] & r.all
	}
	var p uint64
	for i, n := range r.canon {
		if s.has(n, r.keys[i]) {
			p |= 1 << i
		}
	}
	return p
}

// evalMask, evalSet and evalBits walk the tree over three representations
// of the present fields. They are written out three times on purpose: a
// generic walker over an interface made Eval allocate and run 5x slower.
func evalMask(n *node, p uint64) bool {
	switch n.op {
	case opField:
		return p&(1<<n.field) != 0
	case opAnd:
		for _, k := range n.kids {
			if !evalMask(k, p) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if evalMask(k, p) {
			return true
		}
	}
	return false
}

func (r *Rule) evalSet(n *node, s *FieldSet) bool {
	switch n.op {
	case opField:
		return s.has(r.canon[n.field], r.keys[n.field])
	case opAnd:
		for _, k := range n.kids {
			if !r.evalSet(k, s) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if r.evalSet(k, s) {
			return true
		}
	}
	return false
}

// evalBits evaluates n on a bitset over dense indices (any number of fields).
func evalBits(n *node, b []uint64) bool {
	switch n.op {
	case opField:
		return b[n.field>>6]&(1<<(n.field&63)) != 0
	case opAnd:
		for _, k := range n.kids {
			if !evalBits(k, b) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if evalBits(k, b) {
			return true
		}
	}
	return false
}

// Parsing.

const blanks = " \t\n\r\f\v"

type tokKind uint8

const (
	tEOF tokKind = iota
	tField
	tAnd
	tOr
	tLParen
	tRParen
)

type token struct {
	kind     tokKind
	pos, end int
}

// parser is a recursive-descent parser with one token of look-ahead.
type parser struct {
	src   string
	tok   token
	depth int
	index map[string]int // key → provisional index (order of first use)
	keys  []string
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &RuleSyntaxError{Expr: p.src, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() (*node, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tEOF:
		return root, nil
	case tRParen:
		return nil, p.errorf(p.tok.pos, `unexpected ")" at byte %d with no matching "("`, p.tok.pos)
	}
	return nil, p.missingOperator()
}

func (p *parser) missingOperator() error {
	return p.errorf(p.tok.pos, `missing "&&" or "||" before %s at byte %d`, p.describe(), p.tok.pos)
}

func (p *parser) parseOr() (*node, error) {
	return p.parseList(opOr, tOr, p.parseAnd)
}

func (p *parser) parseAnd() (*node, error) {
	return p.parseList(opAnd, tAnd, p.parsePrimary)
}

// parseList parses operands joined by sep and flattens nested groups of the
// same operator.
func (p *parser) parseList(op opKind, sep tokKind, operand func() (*node, error)) (*node, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != sep {
		return first, nil
	}
	n := &node{op: op}
	n.add(first)
	for p.tok.kind == sep {
		opTok := p.tok
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind == tEOF {
			return nil, p.errorf(p.tok.pos, `expected a field or "(" at byte %d after %q at byte %d`, p.tok.pos, p.src[opTok.pos:opTok.end], opTok.pos)
		}
		k, err := operand()
		if err != nil {
			return nil, err
		}
		n.add(k)
	}
	return n, nil
}

func (n *node) add(k *node) {
	if k.op == n.op {
		n.kids = append(n.kids, k.kids...)
		return
	}
	n.kids = append(n.kids, k)
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.tok
	switch t.kind {
	case tField:
		return p.field(t), p.next()
	case tLParen:
		return p.group(t)
	case tRParen:
		if p.depth == 0 {
			return nil, p.errorf(t.pos, `unexpected ")" at byte %d with no matching "("`, t.pos)
		}
	}
	return nil, p.errorf(t.pos, `expected a field or "(" at byte %d, found %s`, t.pos, p.describe())
}

func (p *parser) field(t token) *node {
	key := p.src[t.pos:t.end]
	i, ok := p.index[key]
	if !ok {
		i = len(p.keys)
		p.index[key] = i
		p.keys = append(p.keys, key)
	}
	return &node{op: opField, field: i}
}

func (p *parser) group(open token) (*node, error) {
	if p.depth++; p.depth > maxRuleDepth {
		return nil, p.errorf(open.pos, `parentheses nested deeper than %d at byte %d`, maxRuleDepth, open.pos)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tRParen {
		return nil, p.errorf(p.tok.pos, `empty parentheses: expected a field or "(" at byte %d`, p.tok.pos)
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tRParen:
		p.depth--
		return n, p.next()
	case tField, tLParen:
		return nil, p.missingOperator()
	}
	return nil, p.errorf(p.tok.pos, `expected ")" to close "(" at byte %d, found %s at byte %d`, open.pos, p.describe(), p.tok.pos)
}

// describe names the current token for messages.
func (p *parser) describe() string {
	if p.tok.kind == tEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", p.src[p.tok.pos:p.tok.end])
}

// next reads the following token into p.tok.
func (p *parser) next() error {
	i := p.tok.end
	for i < len(p.src) && strings.IndexByte(blanks, p.src[i]) >= 0 {
		i++
	}
	if i == len(p.src) {
		p.tok = token{tEOF, i, i}
		return nil
	}
	kind, end, err := p.lex(i)
	if err != nil {
		return err
	}
	p.tok = token{kind, i, end}
	return nil
}

// lex recognises the token starting at the non-blank byte i.
func (p *parser) lex(i int) (tokKind, int, error) {
	s := p.src
	switch c := s[i]; c {
	case '$':
		j := i + 1
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, 0, p.errorf(i, `"$" without a field number at byte %d (fields are written $0, $1, …)`, i)
		}
		return tField, j, nil
	case '&', '|':
		if i+1 < len(s) && s[i+1] == c {
			if c == '&' {
				return tAnd, i + 2, nil
			}
			return tOr, i + 2, nil
		}
		return 0, 0, p.errorf(i, `single "%c" at byte %d (did you mean "%c%c"?)`, c, i, c, c)
	case '(':
		return tLParen, i + 1, nil
	case ')':
		return tRParen, i + 1, nil
	}
	return 0, 0, p.badByte(i)
}

// badByte explains a byte that starts no token.
func (p *parser) badByte(i int) error {
	s, c := p.src, p.src[i]
	switch {
	case c == '!':
		return p.errorf(i, `"!" at byte %d: negation is not supported in rules`, i)
	case strings.HasPrefix(s[i:], "\u00a0"):
		return p.errorf(i, `non-breaking space (U+00A0) at byte %d: use a plain space`, i)
	case c >= 0x80:
		return p.errorf(i, `non-ASCII byte 0x%02x at byte %d`, c, i)
	case c == '_' || 'a' <= c|0x20 && c|0x20 <= 'z':
		return p.badWord(i)
	case '0' <= c && c <= '9':
		return p.errorf(i, `number at byte %d without "$" (fields are written $0, $1, …)`, i)
	}
	return p.errorf(i, `unexpected character %q at byte %d`, c, i)
}

func (p *parser) badWord(i int) error {
	j := i
	for j < len(p.src) && j-i < 20 && (p.src[j] == '_' || 'a' <= p.src[j]|0x20 && p.src[j]|0x20 <= 'z' || '0' <= p.src[j] && p.src[j] <= '9') {
		j++
	}
	w := p.src[i:j]
	switch strings.ToLower(w) {
	case "and":
		return p.errorf(i, `unexpected word %q at byte %d (use "&&")`, w, i)
	case "or":
		return p.errorf(i, `unexpected word %q at byte %d (use "||")`, w, i)
	case "not":
		return p.errorf(i, `unexpected word %q at byte %d: negation is not supported in rules`, w, i)
	}
	return p.errorf(i, `unexpected word %q at byte %d (a rule has only $N fields, "&&", "||" and parentheses)`, w, i)
}

// Minimal DNF.

// minimalDNF returns the minimal terms of n (each a mask over local bits,
// local[dense] giving the bit of a field): exactly the inclusion-minimal
// sets of fields that satisfy the monotone rule. ok is false when the terms
// would exceed dnfCap; the cap is checked after every step and before large
// products, so the worst case ($0||$1) && ($2||$3) && … gives up quickly.
func minimalDNF(n *node, local []int) (terms []uint64, ok bool) {
	switch n.op {
	case opField:
		return []uint64{1 << local[n.field]}, true
	case opOr:
		for _, k := range n.kids {
			kt, ok := minimalDNF(k, local)
			if !ok {
				return nil, false
			}
			terms = append(terms, kt...)
			if terms = absorb(terms); len(terms) > dnfCap {
				return nil, false
			}
		}
		return terms, true
	}
	terms = []uint64{0}
	for _, k := range n.kids {
		kt, ok := minimalDNF(k, local)
		if !ok || len(terms)*len(kt) > 8*dnfCap {
			return nil, false
		}
		if terms = absorb(product(terms, kt)); len(terms) > dnfCap {
			return nil, false
		}
	}
	return terms, true
}

func product(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x|y)
		}
	}
	return out
}

// absorb keeps the inclusion-minimal terms, smallest first and then in field
// order (lowest differing field first).
func absorb(terms []uint64) []uint64 {
	slices.SortFunc(terms, compareMasks)
	kept := terms[:0]
	for _, t := range terms {
		if !slices.ContainsFunc(kept, func(k uint64) bool { return k&^t == 0 }) {
			kept = append(kept, t)
		}
	}
	return kept
}

func compareMasks(a, b uint64) int {
	if c := bits.OnesCount64(a) - bits.OnesCount64(b); c != 0 {
		return c
	}
	if a == b {
		return 0
	}
	if d := (a ^ b) & -(a ^ b); a&d != 0 {
		return -1
	}
	return 1
}

// Explain.

// Explanation says what a set of filled fields lacks to satisfy a rule.
type Explanation struct {
	// Satisfied is true when the rule already holds; the other fields are
	// then empty.
	Satisfied bool
	// Options lists every inclusion-minimal set of keys to add, smallest
	// first, then in field order; each set is ordered by field number.
	Options [][]string
	// Required lists the keys that are in every option: needed whatever the
	// applicant chooses.
	Required []string
	// Residual is the rule left once the filled fields are taken as true,
	// e.g. "$0 && ($1 || $3)".
	Residual string
	// Truncated is true when the rule has too many alternatives to list:
	// Options then holds one inclusion-minimal set (not necessarily a
	// smallest one), while Required and Residual stay exact.
	Truncated bool
}

// Explain tells what must be added to s to satisfy the rule. It computes the
// options from the precompiled minimal DNF when there is one, otherwise from
// the DNF of the residual rule, and when that too is over the cap it falls
// back to a greedy option and an exact Required (one evaluation per field).
func (r *Rule) Explain(s FieldSet) Explanation {
	present := r.presentBits(&s)
	res := residual(r.root, present)
	if res == nil {
		return Explanation{Satisfied: true}
	}
	e := Explanation{Residual: r.format(res)}
	var opts [][]int
	if r.terms != nil {
		opts = optionsFromTerms(r.terms, present[0])
	} else if opts = residualOptions(res, len(r.keys)); opts == nil {
		e.Truncated = true
		opts = [][]int{greedyOption(res, len(r.keys))}
		e.Required = r.names(requiredByEval(res, len(r.keys)))
	}
	for _, o := range opts {
		e.Options = append(e.Options, r.names(o))
	}
	if !e.Truncated {
		e.Required = r.names(intersect(opts))
	}
	return e
}

// presentBits maps s onto a bitset over the rule's dense indices.
func (r *Rule) presentBits(s *FieldSet) []uint64 {
	b := make([]uint64, (len(r.keys)+63)/64)
	for i, n := range r.canon {
		if s.has(n, r.keys[i]) {
			b[i>>6] |= 1 << (i & 63)
		}
	}
	return b
}

func hasBit(b []uint64, i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func (r *Rule) names(fields []int) []string {
	if len(fields) == 0 {
		return nil
	}
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = r.keys[f]
	}
	return out
}

// residual partially evaluates n with the present fields set to true; nil
// means true. Identical alternatives of an OR are merged. It is linear in
// the size of the rule.
func residual(n *node, present []uint64) *node {
	switch n.op {
	case opField:
		if hasBit(present, n.field) {
			return nil
		}
		return n
	case opAnd:
		out := &node{op: opAnd}
		for _, k := range n.kids {
			if rk := residual(k, present); rk != nil {
				out.add(rk)
			}
		}
		return collapse(out)
	}
	var alts []*node
	for _, k := range n.kids {
		rk := residual(k, present)
		if rk == nil {
			return nil
		}
		alts = append(alts, rk)
	}
	out := &node{op: opOr}
	for _, k := range absorbAlternatives(alts) {
		out.add(k)
	}
	return collapse(out)
}

// absorbAlternatives drops an alternative whose conjuncts include all those
// of another one (x || (x && y) is x) and repeated alternatives, keeping the
// first; so the A2 rule with all but $3 filled leaves "$3". It compares
// structure only, quadratic in the number of alternatives of one OR.
func absorbAlternatives(alts []*node) []*node {
	sets := make([][]string, len(alts))
	for i, a := range alts {
		sets[i] = conjunctSigs(a)
	}
	var out []*node
	for i, a := range alts {
		drop := false
		for j := range alts {
			if j != i && subsetOf(sets[j], sets[i]) && (len(sets[j]) < len(sets[i]) || j < i) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, a)
		}
	}
	return out
}

// conjunctSigs lists the signatures of the conjuncts of n, sorted.
func conjunctSigs(n *node) []string {
	if n.op != opAnd {
		return []string{signature(n)}
	}
	out := make([]string, len(n.kids))
	for i, k := range n.kids {
		out[i] = signature(k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func subsetOf(a, b []string) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}

// collapse turns an empty AND into true (nil) and a one-operand group into
// its operand.
func collapse(n *node) *node {
	switch len(n.kids) {
	case 0:
		return nil
	case 1:
		return n.kids[0]
	}
	return n
}

// signature is a structural key of n (dense indices), for de-duplication.
func signature(n *node) string {
	if n.op == opField {
		return fmt.Sprint(n.field)
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = signature(k)
	}
	return fmt.Sprintf("%d(%s)", n.op, strings.Join(parts, ","))
}

// optionsFromTerms: the minimal sets of absent fields to add are the minimal
// elements of {t &^ present}.
func optionsFromTerms(terms []uint64, present uint64) [][]int {
	missing := make([]uint64, len(terms))
	for i, t := range terms {
		missing[i] = t &^ present
	}
	missing = absorb(missing)
	out := make([][]int, len(missing))
	for i, m := range missing {
		out[i] = maskFields(m, nil)
	}
	return out
}

func maskFields(m uint64, local []int) []int {
	var out []int
	for ; m != 0; m &= m - 1 {
		b := bits.TrailingZeros64(m)
		if local != nil {
			b = local[b]
		}
		out = append(out, b)
	}
	return out
}

// fieldsOf lists the dense indices n mentions, in order.
func fieldsOf(n *node, nFields int) []int {
	seen := make([]uint64, (nFields+63)/64)
	var walk func(*node)
	walk = func(n *node) {
		if n.op == opField {
			seen[n.field>>6] |= 1 << (n.field & 63)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	var out []int
	for i := range nFields {
		if hasBit(seen, i) {
			out = append(out, i)
		}
	}
	return out
}

// residualOptions computes the minimal DNF of the residual rule (whose
// fields are all absent) over local bits; nil if it has over 64 fields or
// exceeds the cap.
func residualOptions(res *node, nFields int) [][]int {
	fields := fieldsOf(res, nFields)
	if len(fields) > 64 {
		return nil
	}
	local := make([]int, nFields)
	for i, f := range fields {
		local[f] = i
	}
	terms, ok := minimalDNF(res, local)
	if !ok {
		return nil
	}
	out := make([][]int, len(terms))
	for i, t := range terms {
		out[i] = maskFields(t, fields)
	}
	return out
}

// bitsOf returns a bitset over nFields with fields set.
func bitsOf(fields []int, nFields int) []uint64 {
	b := make([]uint64, (nFields+63)/64)
	for _, f := range fields {
		b[f>>6] |= 1 << (f & 63)
	}
	return b
}

// greedyOption starts from every field of the residual and drops each one
// that is not needed: the result is inclusion-minimal.
func greedyOption(res *node, nFields int) []int {
	fields := fieldsOf(res, nFields)
	b := bitsOf(fields, nFields)
	var out []int
	for _, f := range fields {
		b[f>>6] &^= 1 << (f & 63)
		if !evalBits(res, b) {
			b[f>>6] |= 1 << (f & 63)
			out = append(out, f)
		}
	}
	return out
}

// requiredByEval finds the fields without which the residual cannot hold:
// f is required iff the residual is false with every other field present.
func requiredByEval(res *node, nFields int) []int {
	fields := fieldsOf(res, nFields)
	b := bitsOf(fields, nFields)
	var out []int
	for _, f := range fields {
		b[f>>6] &^= 1 << (f & 63)
		if !evalBits(res, b) {
			out = append(out, f)
		}
		b[f>>6] |= 1 << (f & 63)
	}
	return out
}

// intersect returns the fields common to every option.
func intersect(opts [][]int) []int {
	if len(opts) == 0 {
		return nil
	}
	out := slices.Clone(opts[0])
	for _, o := range opts[1:] {
		out = slices.DeleteFunc(out, func(f int) bool { return !slices.Contains(o, f) })
	}
	return out
}
