package visengine

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry names must extract to the same, distinct, visible files on every OS.
// Two names that Unicode normalization (NFC) or case folding make equal look
// the same to a user and collide on macOS and Windows, so they are
// duplicates. The check uses only the standard library (the root package
// takes no other dependency): names may hold only characters that NFC leaves
// alone whatever surrounds them, so NFC is the identity on every accepted
// name, and equality after NFC plus case folding becomes equality of
// foldKey. zipname_test.go proves both facts for every code point against
// golang.org/x/text, which only the tests import.

// unsafeName returns why a (trailing-slash-trimmed) entry name cannot be
// written under a target folder, the same on every OS, or "" if it can.
func unsafeName(name string) string {
	switch {
	case name == "":
		return "empty name"
	case strings.HasPrefix(name, "/"):
		return "absolute path"
	case strings.Contains(name, `\`):
		return "backslash in name"
	case strings.Contains(name, ":"):
		return "colon in name (Windows drive or stream)"
	case strings.ContainsAny(name, `<>"|?*`):
		return `character forbidden on Windows (< > " | ? *) in name`
	}
	for _, r := range name {
		if reason := unsafeRune(r); reason != "" {
			return reason
		}
	}
	for rest, more := name, true; more; {
		var elem string
		elem, rest, more = strings.Cut(rest, "/")
		if reason := unsafeElement(elem); reason != "" {
			return reason
		}
	}
	return ""
}

// unsafeRune returns why r may not appear in a name, or "" if it may.
// Accepted: letters, digits, punctuation, symbols and U+0020, except the
// few that normalization or full case folding would change.
func unsafeRune(r rune) string {
	switch {
	case r < utf8.RuneSelf && r >= ' ' && r != 0x7f:
		return ""
	case r == utf8.RuneError || unicode.Is(unicode.Cc, r):
		return "control character or invalid UTF-8 in name"
	case unicode.Is(unicode.Cf, r) || unicode.Is(invisibleLetters, r):
		return "invisible format character in name (zero-width, bidi control, BOM...)"
	case unicode.Is(unicode.Z, r):
		return "space or separator other than U+0020 in name"
	case unicode.Is(unicode.M, r):
		return "combining mark in name (normalization may merge it with the letter before)"
	case !unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
		return "unassigned, private-use or surrogate code point in name"
	case unicode.Is(unstableRunes, r):
		return "character that normalization or case folding rewrites (compatibility or decomposable form) in name"
	}
	return ""
}

// invisibleLetters are the default-ignorable code points that Unicode files
// as letters: Hangul fillers, which render as nothing.
var invisibleLetters = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x115f, Hi: 0x1160, Stride: 1},
	{Lo: 0x3164, Hi: 0x3164, Stride: 1},
	{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
}}

// unstableRunes are the letters, digits, punctuation and symbols that NFC
// rewrites or merges with a neighbour (singleton and excluded canonical
// decompositions, conjoining Hangul jamo, polytonic Greek, CJK compatibility
// ideographs) or whose full case folding is several characters and not in
// fullFolds (ligatures such as U+FB01). Whole blocks are taken where that
// is simpler; TestUnstableRunesCoverNFC checks the table against x/text.
var unstableRunes = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0149, Hi: 0x0149, Stride: 1}, // ŉ folds to ʼn
		{Lo: 0x01f0, Hi: 0x01f0, Stride: 1}, // ǰ folds to j + caron
		{Lo: 0x0374, Hi: 0x0374, Stride: 1},
		{Lo: 0x037e, Hi: 0x037e, Stride: 1}, // Greek question mark, NFC ";"
		{Lo: 0x0387, Hi: 0x0387, Stride: 1},
		{Lo: 0x0587, Hi: 0x0587, Stride: 1}, // Armenian ligature
		{Lo: 0x0958, Hi: 0x095f, Stride: 1},
		{Lo: 0x09dc, Hi: 0x09dd, Stride: 1},
		{Lo: 0x09df, Hi: 0x09df, Stride: 1},
		{Lo: 0x0a33, Hi: 0x0a33, Stride: 1},
		{Lo: 0x0a36, Hi: 0x0a36, Stride: 1},
		{Lo: 0x0a59, Hi: 0x0a5b, Stride: 1},
		{Lo: 0x0a5e, Hi: 0x0a5e, Stride: 1},
		{Lo: 0x0b5c, Hi: 0x0b5d, Stride: 1},
		{Lo: 0x0f43, Hi: 0x0f43, Stride: 1},
		{Lo: 0x0f4d, Hi: 0x0f4d, Stride: 1},
		{Lo: 0x0f52, Hi: 0x0f52, Stride: 1},
		{Lo: 0x0f57, Hi: 0x0f57, Stride: 1},
		{Lo: 0x0f5c, Hi: 0x0f5c, Stride: 1},
		{Lo: 0x0f69, Hi: 0x0f69, Stride: 1},
		{Lo: 0x1100, Hi: 0x11ff, Stride: 1}, // Hangul jamo
		{Lo: 0x1e96, Hi: 0x1e9a, Stride: 1}, // fold to letter + mark
		{Lo: 0x1f00, Hi: 0x1fff, Stride: 1}, // Greek extended (oxia singletons, iota subscripts)
		{Lo: 0x2126, Hi: 0x2126, Stride: 1}, // Ohm sign
		{Lo: 0x212a, Hi: 0x212b, Stride: 1}, // Kelvin and Angstrom signs
		{Lo: 0x2329, Hi: 0x232a, Stride: 1}, // angle brackets, NFC U+3008/U+3009
		{Lo: 0x2adc, Hi: 0x2adc, Stride: 1},
		{Lo: 0xa960, Hi: 0xa97f, Stride: 1}, // Hangul jamo extended-A
		{Lo: 0xd7b0, Hi: 0xd7ff, Stride: 1}, // Hangul jamo extended-B
		{Lo: 0xf900, Hi: 0xfaff, Stride: 1}, // CJK compatibility ideographs
		{Lo: 0xfb00, Hi: 0xfb06, Stride: 1}, // Latin ligatures
		{Lo: 0xfb13, Hi: 0xfb17, Stride: 1}, // Armenian ligatures
		{Lo: 0xfb1d, Hi: 0xfb4f, Stride: 1}, // Hebrew presentation forms
	},
	R32: []unicode.Range32{
		{Lo: 0x1d15e, Hi: 0x1d164, Stride: 1}, // musical notes
		{Lo: 0x1d1bb, Hi: 0x1d1c0, Stride: 1},
		{Lo: 0x2f800, Hi: 0x2fa1f, Stride: 1}, // CJK compatibility supplement
	},
}

// fullFold returns the case folding of the accepted characters that fold to
// more than one character; every other accepted character folds to one.
func fullFold(r rune) (string, bool) {
	switch r {
	case '\u00df', '\u1e9e': // ß, ẞ
		return "ss", true
	case '\u0130': // İ
		return "i\u0307", true
	case '\u0390': // ΐ
		return "\u03b9\u0308\u0301", true
	case '\u03b0': // ΰ
		return "\u03c5\u0308\u0301", true
	}
	return "", false
}

// foldKey maps a name to a key that is equal for two accepted names exactly
// when Unicode full case folding makes them equal, or coarser (it also
// equates dotless ı with i): the duplicate check compares keys.
func foldKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		} else if s, ok := fullFold(r); ok {
			b.WriteString(s)
		} else {
			b.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
		}
	}
	return b.String()
}

// unsafeElement returns why one path element cannot be created, the same,
// on every OS, or "" if it can.
func unsafeElement(elem string) string {
	switch {
	case elem == "..":
		return "parent directory (..) in path"
	case elem == "" || elem == ".":
		return "empty or . path element"
	case strings.HasSuffix(elem, ".") || strings.HasSuffix(elem, " "):
		return "path element ending in a dot or space (Windows drops them)"
	case isWindowsDevice(elem):
		return "Windows device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9) in path"
	}
	return ""
}

// isWindowsDevice reports whether Windows opens a device instead of a file
// for elem: a device name in any case, with any extension ("aux.pdf") and
// spaces before it ("nul .txt").
func isWindowsDevice(elem string) bool {
	base, _, _ := strings.Cut(elem, ".")
	base = strings.TrimRight(base, " ")
	if len(base) < 3 || len(base) > 7 {
		return false
	}
	for _, dev := range [...]string{"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} {
		if strings.EqualFold(base, dev) {
			return true
		}
	}
	port := base[:3]
	return (strings.EqualFold(port, "COM") || strings.EqualFold(port, "LPT")) && isPortDigit(base[3:])
}

// isPortDigit reports whether s is one digit Windows accepts after COM or
// LPT, superscripts included.
func isPortDigit(s string) bool {
	return len(s) == 1 && s[0] >= '0' && s[0] <= '9' || s == "¹" || s == "²" || s == "³"
}
