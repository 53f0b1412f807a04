package main

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Every string a server sent (names, keys, option names, states, ids,
// messages, tokens) passes through clean, or cleanText for text of several
// lines, on its way to a terminal; JSON output through escapeJSON. A
// hostile catalogue or richiesta must not be able to set the window title
// ("\x1b]0;…\a"), clear the screen, forge a line or reorder one with a
// bidi override (U+202E), like gh's asciisanitizer.

// unsafeRune reports whether r may change what a terminal shows beyond
// itself: C0 and C1 controls, DEL, bidi controls (embeddings, overrides,
// isolates, marks), other invisible format characters, and the line and
// paragraph separators.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
		unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
}

// clean makes a server-supplied string safe to print on one line of a
// terminal: unsafe characters (escape sequences among them) become blanks,
// and runs of blanks one space.
func clean(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))), " ")
}

// cleanText is clean for text of several lines: each line is cleaned and
// the line breaks are kept.
func cleanText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}

// escapeJSON rewrites the unsafe characters encoding/json leaves as they
// are (DEL, C1 controls, bidi and format characters) as \uXXXX escapes.
// They can only occur inside strings, where the escape means the same
// character, so the JSON decodes to the same values.
func escapeJSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r != '\n' && unsafeRune(r) }) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == '\n' || !unsafeRune(r):
			out = append(out, b[:n]...)
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case r > 0xffff: // a surrogate pair, as JSON spells it
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out
}
