package visengine

// compiledRule is a parsed Validazione with the text it came from, so a
// Struttura changed after decoding is not checked against a stale rule.
type compiledRule struct {
	src  string
	rule *Rule
	err  error
}

func compileRule(src string) *compiledRule {
	r, err := ParseRule(src)
	return &compiledRule{src: src, rule: r, err: err}
}
