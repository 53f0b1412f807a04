package docstream

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of skipped values; recursion stays shallow and
// memory stays constant even for hostile input.
const maxDepth = 256

// str reads a JSON string (the opening quote already consumed) with full
// unescaping, appending at most max bytes to dst. over reports that the value
// was longer than max; the string is still consumed and validated.
func (s *scanner) str(dst []byte, max int) (out []byte, over bool, err error) {
	for {
		if !s.more() {
			return dst, over, s.fail()
		}
		start := s.pos
		for s.pos < s.end && strPlain[s.buf[s.pos]] {
			s.pos++
		}
		dst, over = appendCapped(dst, s.buf[start:s.pos], max, over)
		if s.pos == s.end {
			continue
		}
		c := s.buf[s.pos]
		s.pos++
		switch {
		case c == '"':
			return dst, over, nil
		case c < 0x20:
			s.pos--
			return dst, over, s.syntax("control character in string")
		}
		var tmp [2 * utf8.UTFMax]byte
		esc, err := s.escape(tmp[:0])
		if err != nil {
			return dst, over, err
		}
		dst, over = appendCapped(dst, esc, max, over)
	}
}

// bufferedString reads a string (the opening quote consumed) that ends
// within the buffer, unescaping it straight into its result. It reports
// false, having consumed nothing, when the string goes past the buffer or
// holds anything but plain bytes and simple escapes: str or strTo then read
// it and report any error.
func (s *scanner) bufferedString() (string, bool) {
	b := s.buf[s.pos:s.end]
	end, escapes := 0, false
	for ; end < len(b) && b[end] != '"'; end++ {
		switch c := b[end]; {
		case c < 0x20:
			return "", false
		case c == '\\':
			if end+1 == len(b) || b[end+1] == 'u' {
				return "", false
			}
			escapes = true
			end++
		}
	}
	if end == len(b) {
		return "", false
	}
	raw := b[:end]
	if !escapes {
		s.pos += end + 1
		if utf8.Valid(raw) {
			return string(raw), true
		}
		return string(fixUTF8(nil, raw)), true
	}
	var sb strings.Builder
	sb.Grow(len(raw))
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 {
			sb.Write(raw)
			break
		}
		sb.Write(raw[:i])
		c, ok := simpleEscape[raw[i+1]], simpleEscape[raw[i+1]] != 0
		if !ok {
			return "", false
		}
		sb.WriteByte(c)
		raw = raw[i+2:]
	}
	s.pos += end + 1
	if out := sb.String(); utf8.ValidString(out) {
		return out, true
	}
	return string(fixUTF8(nil, []byte(sb.String()))), true
}

// bufferedKey consumes a key (its opening quote consumed) of plain bytes,
// without escapes, and the colon after it, when both are within the
// buffer, and returns the key as a slice of the buffer, valid until the
// next read. It reports false, having consumed nothing, otherwise: str
// then reads the key.
func (s *scanner) bufferedKey() ([]byte, bool) {
	b := s.buf[s.pos:s.end]
	for i := 0; i < len(b) && i <= maxReaderKeyLen; i++ {
		if c := b[i]; c != '"' {
			if !strPlain[c] {
				return nil, false
			}
			continue
		}
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case ' ', '\t', '\n', '\r':
				continue
			case ':':
				s.pos += j + 1
				return b[:i], true
			}
			return nil, false
		}
		return nil, false
	}
	return nil, false
}

// bufferedRawString consumes a string (its opening quote next) that ends
// within the buffer and returns its text as it is, quotes included, after
// checking it as str would. It reports false, having consumed nothing, when
// the string goes past the buffer or is not valid: str then reads it and
// reports the error.
func (s *scanner) bufferedRawString() ([]byte, bool) {
	b := s.buf[s.pos:s.end]
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			s.pos += i + 1
			return b[:i+1], true
		case c < 0x20:
			return nil, false
		case c != '\\':
		case i+1 < len(b) && simpleEscape[b[i+1]] != 0:
			i++
		case i+5 < len(b) && b[i+1] == 'u':
			if _, ok := hexValue(b[i+2 : i+6]); !ok {
				return nil, false
			}
			i += 5
		default:
			return nil, false
		}
	}
	return nil, false
}

// simpleEscape maps the byte after a backslash to what it stands for, for
// the escapes other than \u; 0 for anything else.
var simpleEscape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// strTo is str writing into w, without a cap: the unescaped value goes
// into pooled chunks, to be copied once into its result.
func (s *scanner) strTo(w *chunkBuf) error {
	for {
		if !s.more() {
			return s.fail()
		}
		start := s.pos
		for s.pos < s.end && strPlain[s.buf[s.pos]] {
			s.pos++
		}
		w.write(s.buf[start:s.pos])
		if s.pos == s.end {
			continue
		}
		c := s.buf[s.pos]
		s.pos++
		switch {
		case c == '"':
			return nil
		case c < 0x20:
			s.pos--
			return s.syntax("control character in string")
		}
		var tmp [2 * utf8.UTFMax]byte
		esc, err := s.escape(tmp[:0])
		if err != nil {
			return err
		}
		w.write(esc)
	}
}

// strPlain marks the bytes a string's body copies as they are: all but the
// quote, the backslash and control characters.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func appendCapped(dst, b []byte, max int, over bool) ([]byte, bool) {
	if room := max - len(dst); len(b) > room {
		return append(dst, b[:room]...), true
	}
	return append(dst, b...), over
}

// escape decodes one escape sequence after its backslash and appends its
// UTF-8 form to dst. UTF-16 surrogate pairs are combined; a lone surrogate
// becomes U+FFFD, as encoding/json does.
func (s *scanner) escape(dst []byte) ([]byte, error) {
	c, err := s.next()
	if err != nil {
		return dst, err
	}
	switch c {
	case '"', '\\', '/':
		return append(dst, c), nil
	case 'b':
		return append(dst, '\b'), nil
	case 'f':
		return append(dst, '\f'), nil
	case 'n':
		return append(dst, '\n'), nil
	case 'r':
		return append(dst, '\r'), nil
	case 't':
		return append(dst, '\t'), nil
	case 'u':
		return s.unicodeEscape(dst)
	}
	s.pos--
	return dst, s.syntax("invalid escape in string")
}

func isSurrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

// unicodeEscape decodes \uXXXX after its "\u" as encoding/json does: a
// high surrogate pairs with an immediately following \uXXXX low surrogate;
// any other surrogate becomes U+FFFD, and the escape after it, if any, is
// read on its own.
func (s *scanner) unicodeEscape(dst []byte) ([]byte, error) {
	r, err := s.hex4()
	if err != nil {
		return dst, err
	}
	if !isSurrogate(r) {
		return utf8.AppendRune(dst, r), nil
	}
	if r < 0xDC00 && s.startsWith(`\u`) && s.have(6) {
		if lo, ok := hexValue(s.buf[s.pos+2 : s.pos+6]); ok && lo >= 0xDC00 && lo < 0xE000 {
			s.pos += 6
			return utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(lo-0xDC00)), nil
		}
	}
	return utf8.AppendRune(dst, utf8.RuneError), nil
}

// hexValue reads four hex digits.
func hexValue(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// startsWith reports whether the unread input begins with p (len(p) <= 2 in
// practice). It may refill the buffer, moving unread bytes to its front.
func (s *scanner) startsWith(p string) bool {
	return s.have(len(p)) && string(s.buf[s.pos:s.pos+len(p)]) == p
}

// have reports whether n unread bytes (n is tiny) are in the buffer,
// refilling it if needed.
func (s *scanner) have(n int) bool {
	return s.end-s.pos >= n || s.ensure(n)
}

func (s *scanner) hex4() (rune, error) {
	var r rune
	for i := 0; i < 4; i++ {
		c, err := s.next()
		if err != nil {
			return 0, err
		}
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			s.pos--
			return 0, s.syntax("invalid \\u escape")
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// skipValue consumes any JSON value (whitespace already skipped), validating
// it; depth counts enclosing skipped containers.
func (s *scanner) skipValue(depth int) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return s.object(func(_ []byte) error { return s.skipMember(depth + 1) }, depth+1)
	case '[':
		return s.array(depth + 1)
	case '"':
		s.pos++
		_, _, err = s.str(nil, 0)
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	if c == '-' || ('0' <= c && c <= '9') {
		var buf [maxNumberLen]byte
		_, err = s.number(&buf)
		return err
	}
	return s.syntax("expected a value")
}

func (s *scanner) skipMember(depth int) error {
	if _, err := s.skipSpace(); err != nil {
		return err
	}
	return s.skipValue(depth)
}

// maxKeyLen is longer than any key we look for; longer keys are unknown keys.
const maxKeyLen = 32

// object consumes a JSON object whose '{' is next, calling member for each
// key with the scanner positioned after the colon. The key slice is only
// valid during the call.
func (s *scanner) object(member func(key []byte) error, depth int) error {
	if depth > maxDepth {
		return s.syntax("nesting too deep")
	}
	s.pos++ // '{'
	c, err := s.skipSpace()
	if err != nil {
		return err
	}
	if c == '}' {
		s.pos++
		return nil
	}
	var keyBuf [maxKeyLen]byte
	for {
		if err := s.expect('"', "expected a key"); err != nil {
			return err
		}
		key, over, err := s.str(keyBuf[:0], maxKeyLen)
		if err != nil {
			return err
		}
		if over {
			key = nil // matches no known key
		}
		if err := s.expect(':', "expected ':'"); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if done, err := s.endOrComma('}'); done || err != nil {
			return err
		}
	}
}

func (s *scanner) array(depth int) error {
	if depth > maxDepth {
		return s.syntax("nesting too deep")
	}
	s.pos++ // '['
	c, err := s.skipSpace()
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.skipMember(depth); err != nil {
			return err
		}
		if done, err := s.endOrComma(']'); done || err != nil {
			return err
		}
	}
}

// endOrComma consumes ',' (more members follow) or the closing byte.
func (s *scanner) endOrComma(closing byte) (done bool, err error) {
	c, err := s.skipSpace()
	if err != nil {
		return false, err
	}
	s.pos++
	switch c {
	case ',':
		return false, nil
	case closing:
		return true, nil
	}
	s.pos--
	return false, s.syntax("expected ',' or closing bracket")
}
