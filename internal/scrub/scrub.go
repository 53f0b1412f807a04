// Package scrub removes secrets and personal data that a server echoed
// back from text on its way to an error, a log or a terminal. The root
// package and package oauth both scrub server messages, with one rule.
package scrub

import "strings"

// ReplaceFold replaces every occurrence of old in s by repl, ignoring case:
// a codice fiscale, an e-mail or a hex token may come back in another
// case. Where lowering changes byte lengths, it falls back to exact
// matching. An empty old leaves s as it is.
func ReplaceFold(s, old, repl string) string {
	if old == "" || len(old) > len(s) {
		return s
	}
	lower, target := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) || len(target) != len(old) {
		return strings.ReplaceAll(s, old, repl)
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, target)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i] + repl)
		s, lower = s[i+len(target):], lower[i+len(target):]
	}
}
