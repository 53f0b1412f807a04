package visengine

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ruleA2 = "($0 && $1 && $2 && $3 && $4 && $5 && $6 && $7) || ($0 && $1 && $2 && $3 && $4 && $5 && $6)"

func TestParseRuleSyntaxErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"$0 | $1", 3, `single "|" at byte 3 (did you mean "||"?)`},
		{"$0 & $1", 3, `single "&" at byte 3 (did you mean "&&"?)`},
		{"$0 &&& $1", 5, `single "&" at byte 5 (did you mean "&&"?)`},
		{"($0 && $1", 9, `expected ")" to close "(" at byte 0, found end of expression at byte 9`},
		{"$0 && ($1 || ($2)", 17, `expected ")" to close "(" at byte 6, found end of expression at byte 17`},
		{"$0\u00a0&& $1", 2, `non-breaking space (U+00A0) at byte 2: use a plain space`},
		{"$0 && é", 6, `non-ASCII byte 0xc3 at byte 6`},
		{"$", 0, `"$" without a field number at byte 0 (fields are written $0, $1, …)`},
		{"$0 && $x", 6, `"$" without a field number at byte 6 (fields are written $0, $1, …)`},
		{"$0 $1", 3, `missing "&&" or "||" before "$1" at byte 3`},
		{"$0 ($1)", 3, `missing "&&" or "||" before "(" at byte 3`},
		{"($0 $1)", 4, `missing "&&" or "||" before "$1" at byte 4`},
		{"$0 &&", 5, `expected a field or "(" at byte 5 after "&&" at byte 3`},
		{"$0 ||  \t", 8, `expected a field or "(" at byte 8 after "||" at byte 3`},
		{"$0 && || $1", 6, `expected a field or "(" at byte 6, found "||"`},
		{"&& $1", 0, `expected a field or "(" at byte 0, found "&&"`},
		{"()", 1, `empty parentheses: expected a field or "(" at byte 1`},
		{"($0 && )", 7, `expected a field or "(" at byte 7, found ")"`},
		{")", 0, `unexpected ")" at byte 0 with no matching "("`},
		{"$0)", 2, `unexpected ")" at byte 2 with no matching "("`},
		{"!$0", 0, `"!" at byte 0: negation is not supported in rules`},
		{"$0 and $1", 3, `unexpected word "and" at byte 3 (use "&&")`},
		{"$0 OR $1", 3, `unexpected word "OR" at byte 3 (use "||")`},
		{"not $1", 0, `unexpected word "not" at byte 0: negation is not supported in rules`},
		{"$0 && true", 6, `unexpected word "true" at byte 6 (a rule has only $N fields, "&&", "||" and parentheses)`},
		{"$0a", 2, `unexpected word "a" at byte 2 (a rule has only $N fields, "&&", "||" and parentheses)`},
		{"$0 && 1", 6, `number at byte 6 without "$" (fields are written $0, $1, …)`},
		{"$0 == $1", 3, `unexpected character '=' at byte 3`},
		{"", 0, `empty expression at byte 0: a rule needs at least one field such as $0`},
		{" \t\n\r\f\v", 0, `blank expression at byte 0: a rule needs at least one field such as $0`},
		{strings.Repeat("$0 || ", 11000) + "$0", 65536, `expression longer than 65536 bytes (cut at byte 65536)`},
		{strings.Repeat("(", 201) + "$0" + strings.Repeat(")", 201), 200, `parentheses nested deeper than 200 at byte 200`},
	}
	for _, tt := range tests {
		name := tt.expr
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run(name, func(t *testing.T) {
			r, err := ParseRule(tt.expr)
			assert.Nil(t, r)
			var se *RuleSyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.expr, se.Expr)
			assert.Equal(t, tt.offset, se.Offset)
			assert.Equal(t, tt.msg, se.Msg)
			assert.Equal(t, "visengine: validazione: "+tt.msg, err.Error())
		})
	}
}

func TestParseRuleNesting200IsAccepted(t *testing.T) {
	r, err := ParseRule(strings.Repeat("(", 200) + "$0" + strings.Repeat(")", 200))
	require.NoError(t, err)
	assert.Equal(t, "$0", r.String())
}

func TestParseRuleAccepts(t *testing.T) {
	tests := []struct{ expr, canonical string }{
		{"$0 && $1  ", "$0 && $1"},
		{"$0", "$0"},
		{"\t$0\n&&\r$1\f||\v$2 ", "($0 && $1) || $2"},
		{"$0&&$1||$2&&$3", "($0 && $1) || ($2 && $3)"},
		{"$0 && ($1 && ($2 && $3))", "$0 && $1 && $2 && $3"},
		{"(($0 || $1)) || $2", "$0 || $1 || $2"},
		{"$10 && $01 && $1", "$10 && $01 && $1"},
		{ruleA2, ruleA2},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.expr)
		require.NoError(t, err, tt.expr)
		assert.Equal(t, tt.canonical, r.String())
	}
}

func TestFieldsOrderAndSpelling(t *testing.T) {
	r, err := ParseRule("$10 && $01 && $1 && $2 && $001")
	require.NoError(t, err)
	assert.Equal(t, []string{"$1", "$01", "$001", "$2", "$10"}, r.Fields())
	// "$01" is a different key from "$1", as in the PHP SDK.
	assert.False(t, r.Eval(FieldSetOf("$1", "$2", "$10", "$001")))
	assert.True(t, r.Eval(FieldSetOf("$1", "$2", "$10", "$001", "$01")))
}

func TestFieldSet(t *testing.T) {
	s := FieldSetOf("$0", "$63", "$64", "$01", "$4095", "$4096", "x")
	for _, k := range []string{"$0", "$63", "$64", "$01", "$4095", "$4096", "x"} {
		assert.True(t, s.Has(k), k)
	}
	for _, k := range []string{"$1", "$001", "$65", "$4097", "", "$"} {
		assert.False(t, s.Has(k), k)
	}
	var zero FieldSet
	assert.False(t, zero.Has("$0"))
}

func TestA2(t *testing.T) {
	r, err := ParseRule(ruleA2)
	require.NoError(t, err)
	assert.Equal(t, []uint64{0x7f}, r.terms, "absorbed into the single term $0..$6")
	assert.Equal(t, []string{"$7"}, r.Optional())

	all := FieldSetOf("$0", "$1", "$2", "$4", "$5", "$6")
	assert.False(t, r.Eval(all))
	e := r.Explain(all)
	assert.Equal(t, Explanation{Alternatives: [][]string{{"$3"}}, Required: []string{"$3"}, Residual: "$3"}, e)

	all.Add("$3")
	assert.True(t, r.Eval(all))
	assert.Equal(t, Explanation{Satisfied: true}, r.Explain(all))
}

func TestExplainNotesExample(t *testing.T) {
	r, err := ParseRule("$0 && ($1 || $2 && $3) && ($4 || $5)")
	require.NoError(t, err)
	e := r.Explain(FieldSetOf("$2"))
	assert.Equal(t, [][]string{{"$0", "$1", "$4"}, {"$0", "$1", "$5"}, {"$0", "$3", "$4"}, {"$0", "$3", "$5"}}, e.Alternatives)
	assert.Equal(t, []string{"$0"}, e.Required)
	assert.Equal(t, "$0 && ($1 || $3) && ($4 || $5)", e.Residual)
	assert.False(t, e.Truncated)
	assert.Empty(t, r.Optional())
}

// A nil Rule answers without panicking: it holds for no set.
func TestNilRule(t *testing.T) {
	var r *Rule
	assert.False(t, r.Eval(FieldSetOf("$0")))
	assert.Equal(t, Explanation{}, r.Explain(FieldSetOf("$0")))
	assert.Nil(t, r.Fields())
	assert.Nil(t, r.Optional())
	assert.Empty(t, r.String())
}

func TestEvalDoesNotAllocate(t *testing.T) {
	many := manyFieldsRule(100)
	for _, expr := range []string{ruleA2, "$3 && ($7 || $01)", worstPairs(16), many} {
		r, err := ParseRule(expr)
		require.NoError(t, err)
		s := FieldSetOf("$0", "$1", "$2", "$3", "$5", "$01", "$70")
		assert.Zero(t, testing.AllocsPerRun(100, func() { r.Eval(s) }), expr[:10])
	}
}

// worstPairs is ($0 || $1) && ($2 || $3) && …: 2^n minimal terms.
func worstPairs(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("($%d || $%d)", 2*i, 2*i+1)
	}
	return strings.Join(parts, " && ")
}

func manyFieldsRule(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("$%d", i)
	}
	return "(" + strings.Join(parts, " && ") + ") || ($0 && $99) || ($98 && ($64 || $5))"
}

func TestWorstCaseCompilesFastAndFallsBack(t *testing.T) {
	expr := worstPairs(16)
	// The fastest of three: a blow-up shows in each, a pause of a loaded
	// machine (scheduling, GC) rarely in all three.
	var r *Rule
	var err error
	elapsed := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		r, err = ParseRule(expr)
		elapsed = min(elapsed, time.Since(start))
	}
	require.NoError(t, err)
	assert.Nil(t, r.terms, "over the DNF cap")
	assert.Less(t, elapsed, 50*time.Millisecond, "the 1 ms budget is checked by BenchmarkParseRuleWorst16Pairs; this allows for -race")
	tr := parseTestRule(t, expr)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		keys := randomPresence(rng, 32)
		assert.Equal(t, tr.eval(keys), r.Eval(FieldSetOf(keys...)))
	}
}

func TestExplainTruncated(t *testing.T) {
	r, err := ParseRule("$40 && " + worstPairs(16))
	require.NoError(t, err)
	e := r.Explain(FieldSetOf("$1"))
	assert.True(t, e.Truncated)
	assert.Equal(t, []string{"$40"}, e.Required)
	require.Len(t, e.Alternatives, 1)
	assertMinimalOption(t, r, FieldSetOf("$1"), e.Alternatives[0])
	assert.Equal(t, "$40 && ($2 || $3) && ($4 || $5) && ($6 || $7) && ($8 || $9) && ($10 || $11) && ($12 || $13) && "+
		"($14 || $15) && ($16 || $17) && ($18 || $19) && ($20 || $21) && ($22 || $23) && ($24 || $25) && ($26 || $27) && "+
		"($28 || $29) && ($30 || $31)", e.Residual)

	// With half the pairs filled the residual DNF fits again: exact options.
	half := FieldSetOf("$0", "$2", "$4", "$6", "$8", "$10", "$12", "$14", "$16", "$18")
	e = r.Explain(half)
	assert.False(t, e.Truncated)
	assert.Len(t, e.Alternatives, 64)
	assert.Equal(t, []string{"$40", "$20", "$22", "$24", "$26", "$28", "$30"}, append([]string{"$40"}, e.Alternatives[0][:6]...))
}

// assertMinimalOption checks that adding opt satisfies the rule and that no
// field of opt can be left out.
func assertMinimalOption(t *testing.T, r *Rule, present FieldSet, opt []string) {
	t.Helper()
	with := func(skip string) FieldSet {
		s := FieldSet{words: slices.Clone(present.words), other: maps.Clone(present.other)}
		for _, k := range opt {
			if k != skip {
				s.Add(k)
			}
		}
		return s
	}
	assert.True(t, r.Eval(with("")))
	for _, k := range opt {
		assert.False(t, r.Eval(with(k)), "option not minimal: %s removable", k)
	}
}

func TestMoreThan64Fields(t *testing.T) {
	expr := manyFieldsRule(100)
	r, err := ParseRule(expr)
	require.NoError(t, err)
	assert.False(t, r.small)
	assert.Len(t, r.Fields(), 100)
	tr := parseTestRule(t, expr)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		keys := randomPresence(rng, 100)
		if i%3 == 0 { // dense sets, so the big AND is sometimes true
			keys = append(keys, randomPresence(rng, 100)...)
			keys = append(keys, randomPresence(rng, 100)...)
		}
		assert.Equal(t, tr.eval(keys), r.Eval(FieldSetOf(keys...)))
	}
	all := make([]string, 100)
	for i := range all {
		all[i] = fmt.Sprintf("$%d", i)
	}
	assert.True(t, r.Eval(FieldSetOf(all...)))

	e := r.Explain(FieldSetOf("$0"))
	assert.Equal(t, [][]string{{"$99"}, {"$5", "$98"}, {"$64", "$98"}}, e.Alternatives)
	e = r.Explain(FieldSetOf())
	assert.Equal(t, [][]string{{"$0", "$99"}, {"$5", "$98"}, {"$64", "$98"}}, e.Alternatives)
	assert.Empty(t, e.Required)
}

func randomPresence(rng *rand.Rand, n int) []string {
	var keys []string
	for i := range n {
		if rng.IntN(2) == 0 {
			keys = append(keys, fmt.Sprintf("$%d", i))
		}
	}
	return keys
}

func TestCaret(t *testing.T) {
	_, err := ParseRule("$0 | $1")
	var se *RuleSyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "$0 | $1\n   ^", se.Caret())

	_, err = ParseRule("$0\t&&\u00a0$1")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "$0?&&??$1\n     ^", se.Caret())

	long := strings.Repeat("$1 && ", 20) + "$2 | $3" + strings.Repeat(" && $4", 20)
	_, err = ParseRule(long)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "...&& $1 && $1 && $1 && $1 && $2 | $3 && $4 && $4 && $4 && $4 &...\n"+
		strings.Repeat(" ", 33)+"^", se.Caret())
	assert.NotContains(t, err.Error(), long, "Error stays short")
}

// Property test: random rules over up to 8 fields, every presence set.
func TestRandomRulesAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 8))
	for range 300 {
		nFields := 1 + rng.IntN(8)
		tr := randomTree(rng, nFields, 4)
		expr := tr.render(rng)
		r, err := ParseRule(expr)
		require.NoError(t, err, expr)
		checkAllPresenceSets(t, r, tr, expr)
	}
}

func checkAllPresenceSets(t *testing.T, r *Rule, tr *tnode, expr string) {
	t.Helper()
	fields := tr.fields()
	for mask := 0; mask < 1<<len(fields); mask++ {
		present := subset(fields, mask)
		s := FieldSetOf(present...)
		want := tr.eval(present)
		require.Equal(t, want, r.Eval(s), "%s with %v", expr, present)
		e := r.Explain(s)
		require.Equal(t, want, e.Satisfied)
		wantOpts := bruteOptions(tr, fields, mask)
		require.Equal(t, wantOpts, e.Alternatives, "%s with %v", expr, present)
		require.Equal(t, intersectKeys(wantOpts), e.Required, "%s with %v", expr, present)
		require.False(t, e.Truncated)
		if !want {
			checkResidual(t, tr, e.Residual, fields, mask)
		}
	}
}

// checkResidual: the residual re-parses and agrees with the rule on every
// addition to the present fields.
func checkResidual(t *testing.T, tr *tnode, residual string, fields []string, mask int) {
	t.Helper()
	res, err := ParseRule(residual)
	require.NoError(t, err, residual)
	for add := 0; add < 1<<len(fields); add++ {
		if add&mask != 0 {
			continue
		}
		require.Equal(t, tr.eval(subset(fields, mask|add)), res.Eval(FieldSetOf(subset(fields, add)...)), residual)
	}
}

func subset(fields []string, mask int) []string {
	var out []string
	for i, f := range fields {
		if mask&(1<<i) != 0 {
			out = append(out, f)
		}
	}
	return out
}

// bruteOptions lists the inclusion-minimal sets of absent fields whose
// addition satisfies tr, smallest first then in field order; nil when tr
// already holds.
func bruteOptions(tr *tnode, fields []string, present int) [][]string {
	if tr.eval(subset(fields, present)) {
		return nil
	}
	var sats []int
	for add := 0; add < 1<<len(fields); add++ {
		if add&present == 0 && tr.eval(subset(fields, present|add)) {
			sats = append(sats, add)
		}
	}
	var minimal []int
	for _, a := range sats {
		if !slices.ContainsFunc(sats, func(b int) bool { return b != a && b&a == b }) {
			minimal = append(minimal, a)
		}
	}
	out := make([][]string, len(minimal))
	for i, m := range minimal {
		out[i] = subset(fields, m)
	}
	slices.SortFunc(out, func(a, b []string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return slices.CompareFunc(a, b, compareKeys)
	})
	return out
}

func intersectKeys(opts [][]string) []string {
	if len(opts) == 0 {
		return nil
	}
	var out []string
	for _, k := range opts[0] {
		if !slices.ContainsFunc(opts, func(o []string) bool { return !slices.Contains(o, k) }) {
			out = append(out, k)
		}
	}
	return out
}

// tnode is the tests' own expression tree, evaluated naively.
type tnode struct {
	op   string // "$", "&&", "||"
	key  string
	kids []*tnode
}

func randomTree(rng *rand.Rand, nFields, depth int) *tnode {
	if depth == 0 || rng.IntN(3) == 0 {
		return &tnode{op: "$", key: fmt.Sprintf("$%d", rng.IntN(nFields))}
	}
	n := &tnode{op: []string{"&&", "||"}[rng.IntN(2)]}
	for range 2 + rng.IntN(3) {
		n.kids = append(n.kids, randomTree(rng, nFields, depth-1))
	}
	return n
}

// render always parenthesises groups, with random blanks.
func (n *tnode) render(rng *rand.Rand) string {
	if n.op == "$" {
		return n.key
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = k.render(rng)
	}
	sep := []string{" ", "", "\t", "  "}[rng.IntN(4)]
	return "(" + strings.Join(parts, sep+n.op+sep) + ")"
}

func (n *tnode) eval(present []string) bool {
	switch n.op {
	case "$":
		return slices.Contains(present, n.key)
	case "&&":
		for _, k := range n.kids {
			if !k.eval(present) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if k.eval(present) {
			return true
		}
	}
	return false
}

func (n *tnode) fields() []string {
	var out []string
	var walk func(*tnode)
	walk = func(n *tnode) {
		if n.op == "$" && !slices.Contains(out, n.key) {
			out = append(out, n.key)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	slices.SortFunc(out, compareKeys)
	return out
}

// parseTestRule builds a tnode from a rule the real parser accepts, with a
// naive precedence-climbing parser independent of rule.go.
func parseTestRule(t testing.TB, expr string) *tnode {
	toks := naiveTokens(expr)
	n, rest := naiveOr(toks)
	if len(rest) != 0 {
		t.Fatalf("naive parser left %v", rest)
	}
	return n
}

func naiveTokens(expr string) []string {
	for _, op := range []string{"&&", "||", "(", ")"} {
		expr = strings.ReplaceAll(expr, op, " "+op+" ")
	}
	return strings.Fields(expr)
}

func naiveOr(toks []string) (*tnode, []string) { return naiveList(toks, "||", naiveAnd) }

func naiveAnd(toks []string) (*tnode, []string) { return naiveList(toks, "&&", naivePrimary) }

func naiveList(toks []string, op string, next func([]string) (*tnode, []string)) (*tnode, []string) {
	n := &tnode{op: op}
	k, toks := next(toks)
	n.kids = append(n.kids, k)
	for len(toks) > 0 && toks[0] == op {
		k, toks = next(toks[1:])
		n.kids = append(n.kids, k)
	}
	return n, toks
}

func naivePrimary(toks []string) (*tnode, []string) {
	if toks[0] == "(" {
		n, rest := naiveOr(toks[1:])
		return n, rest[1:]
	}
	return &tnode{op: "$", key: toks[0]}, toks[1:]
}

func BenchmarkEvalA2(b *testing.B) {
	r, err := ParseRule(ruleA2)
	require.NoError(b, err)
	s := FieldSetOf("$0", "$1", "$2", "$3", "$4", "$5", "$6")
	b.ReportAllocs()
	for b.Loop() {
		if !r.Eval(s) {
			b.Fatal("not satisfied")
		}
	}
}

func BenchmarkEvalWorst16PairsAST(b *testing.B) {
	r, err := ParseRule(worstPairs(16))
	require.NoError(b, err)
	s := FieldSetOf("$1", "$2", "$5", "$6", "$9", "$10", "$13", "$14", "$17", "$18", "$21", "$22", "$25", "$26", "$29", "$30")
	b.ReportAllocs()
	for b.Loop() {
		if !r.Eval(s) {
			b.Fatal("not satisfied")
		}
	}
}

func BenchmarkParseRuleA2(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRule(ruleA2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRuleWorst16Pairs(b *testing.B) {
	expr := worstPairs(16)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRule(expr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExplainA2(b *testing.B) {
	r, err := ParseRule(ruleA2)
	require.NoError(b, err)
	s := FieldSetOf("$0", "$1", "$2", "$4", "$5", "$6")
	b.ReportAllocs()
	for b.Loop() {
		if e := r.Explain(s); len(e.Alternatives) != 1 {
			b.Fatal(e)
		}
	}
}

// FuzzParseRule: no panic; errors carry an in-range offset; accepted rules
// evaluate like the naive parser's tree and print to an equivalent rule.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{ruleA2, "$0 && $1  ", "$0", "$0 | $1", "($0 && $1", "$0\u00a0&& $1", "()", "$01 || $1",
		"$0 && ($1 || $2 && $3) && ($4 || $5)", worstPairs(8), "((($0)))", "$0 and $1", "!$0", ""} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, expr string, seed uint64) {
		r, err := ParseRule(expr)
		if err != nil {
			var se *RuleSyntaxError
			require.ErrorAs(t, err, &se)
			require.True(t, se.Offset >= 0 && se.Offset <= len(expr), "offset %d of %d", se.Offset, len(expr))
			_ = se.Caret()
			return
		}
		tr := parseTestRule(t, expr)
		back, err := ParseRule(r.String())
		require.NoError(t, err, r.String())
		require.Equal(t, r.Fields(), back.Fields())
		rng := rand.New(rand.NewPCG(seed, 7))
		fields := r.Fields()
		for range 8 {
			var keys []string
			for _, k := range fields {
				if rng.IntN(3) != 0 {
					keys = append(keys, k)
				}
			}
			s := FieldSetOf(keys...)
			want := tr.eval(keys)
			require.Equal(t, want, r.Eval(s), expr)
			require.Equal(t, want, back.Eval(s), expr)
			e := r.Explain(s)
			require.Equal(t, want, e.Satisfied)
			if !want {
				require.NotEmpty(t, e.Alternatives)
				assertMinimalOption(t, r, s, e.Alternatives[0])
			}
		}
	})
}
