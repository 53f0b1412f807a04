package visengine

import (
	"fmt"
	"strings"
)

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
