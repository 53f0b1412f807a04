package visengine

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

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
	// Alternatives lists every way to satisfy the rule, as the keys to add:
	// each set is needed whole (no set contains another), smallest first,
	// then in field order; each set is ordered by field number.
	Alternatives [][]string
	// Required lists the keys that are in every alternative: needed
	// whatever the applicant chooses.
	Required []string
	// Residual is the rule left once the filled fields are taken as true,
	// e.g. "$0 && ($1 || $3)".
	Residual string
	// Truncated is true when the rule has too many alternatives to list:
	// Alternatives then holds one of them (not necessarily a smallest one),
	// while Required and Residual stay exact.
	Truncated bool
}

// Explain says what an applicant who filled the fields in s still has to
// fill: every smallest way to complete the form (Alternatives), the fields
// needed whichever way is chosen (Required) and the rule left over
// (Residual). A nil Rule gives the zero Explanation.
func (r *Rule) Explain(s FieldSet) Explanation {
	// The alternatives come from the precompiled minimal DNF when there is
	// one, otherwise from the DNF of the residual rule; when that too is over
	// the cap, from a greedy alternative, with Required exact by one
	// evaluation per field.
	if r == nil || r.root == nil {
		return Explanation{}
	}
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
		e.Alternatives = append(e.Alternatives, r.names(o))
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

// explainWords are the sentences of Explanation.Describe, per language.
var explainWords = map[Lang]map[string]string{
	Italian: {
		"satisfied": "Tutti i campi richiesti sono compilati.",
		"required":  "Campi obbligatori: {fields}.",
		"oneOf":     "Compilare anche uno di questi gruppi di campi: {groups}.",
		"onlyOneOf": "Compilare uno di questi gruppi di campi: {groups}.",
		"or":        " oppure ",
		"truncated": " (una delle molte possibilità)",
	},
	English: {
		"satisfied": "Every field the rule needs is filled.",
		"required":  "Required fields: {fields}.",
		"oneOf":     "Fill also one of these groups of fields: {groups}.",
		"onlyOneOf": "Fill one of these groups of fields: {groups}.",
		"or":        " or ",
		"truncated": " (one of many possibilities shown)",
	},
}

// Describe puts the explanation in words in lang, for an applicant: the
// fields needed whatever the choice, then the alternatives left once those
// are taken out, each field by its label (names maps keys to labels; a key
// without a label is shown as itself). In Italian, for A2 with nothing
// filled: `Campi obbligatori: "Nome", "Cognome", … .`
func (x Explanation) Describe(lang Lang, names map[string]string) string {
	say := func(k string) string { s, _ := text(explainWords, lang, k); return s }
	if x.Satisfied {
		return say("satisfied")
	}
	label := func(k string) string {
		if n := names[k]; n != "" {
			return `"` + n + `"`
		}
		return k
	}
	var req, groups []string
	for _, k := range x.Required {
		req = append(req, label(k))
	}
	for _, alt := range x.Alternatives {
		var rest []string
		for _, k := range alt {
			if !slices.Contains(x.Required, k) {
				rest = append(rest, label(k))
			}
		}
		if len(rest) > 0 {
			groups = append(groups, "{"+strings.Join(rest, ", ")+"}")
		}
	}
	var out []string
	if len(req) > 0 {
		out = append(out, fill(say("required"), "fields", strings.Join(req, ", ")))
	}
	if len(groups) > 0 {
		g := strings.Join(groups, say("or"))
		if x.Truncated {
			g += say("truncated")
		}
		out = append(out, fill(say(map[bool]string{true: "oneOf", false: "onlyOneOf"}[len(req) > 0]), "groups", g))
	}
	return strings.Join(out, " ")
}
