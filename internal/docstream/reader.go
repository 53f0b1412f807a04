package docstream

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Reader reads one JSON document from a stream in a single pass, value by
// value, for decoders that know the shape they expect: the envelope around
// every Visengine answer and the richieste inside it. It shares Extract's
// scanner (one fixed buffer, a size cap) and accepts exactly what
// encoding/json accepts: the same grammar, nesting up to 10,000 levels,
// and strings unquoted the same way (invalid UTF-8 and lone surrogates
// become U+FFFD).
//
// Values longer than the buffer are gathered in pooled chunks and copied
// once into their result, so decoding allocates little more than what it
// returns. A check function, called before each read, stops the decoding
// when it returns an error (a context's Err): the Reader's methods then
// return an error wrapping it.
//
// Errors are *SyntaxError (offset only, no content), an error wrapping
// io.ErrUnexpectedEOF when the body ends early, ErrTooLarge, or the
// reader's or the check's error wrapped. Call Release when done.
type Reader struct {
	s      *scanner
	depth  int
	open   [(maxNesting + 63) / 64]uint64 // bit set: the container at that depth is an object
	chunks chunkBuf
	key    [maxReaderKeyLen]byte
}

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

// maxReaderKeyLen bounds the keys passed to Object's callback; longer keys
// are passed as nil, which matches no name a decoder looks for.
const maxReaderKeyLen = 64

// bufPool holds the chunks of long values; readerPool holds Readers with
// their scanner and its buffer: answers are often small, and a buffer per
// answer would cost more than reading it.
var (
	bufPool    = sync.Pool{New: func() any { return new([bufSize]byte) }}
	readerPool = sync.Pool{New: func() any {
		return &Reader{s: &scanner{buf: make([]byte, bufSize)}}
	}}
)

// NewReader reads from r at most limit bytes (0: no limit), calling check,
// when not nil, before each read.
func NewReader(r io.Reader, limit int64, check func() error) *Reader {
	rd := readerPool.Get().(*Reader)
	*rd.s = scanner{r: r, buf: rd.s.buf, limit: limit, check: check}
	rd.depth = 0
	return rd
}

// Release returns the Reader to a pool; it must not be used after. Results
// already returned do not share memory with it.
func (r *Reader) Release() {
	if r == nil || r.s == nil {
		return
	}
	r.chunks.release()
	r.s.r, r.s.check, r.s.capture = nil, nil, nil
	readerPool.Put(r)
}

// Offset is the number of bytes consumed so far.
func (r *Reader) Offset() int64 { return r.s.offset() }

// Kind skips whitespace and returns the first byte of the next value: '{',
// '[', '"', 't', 'f', 'n', '-' or a digit. It consumes nothing else.
func (r *Reader) Kind() (byte, error) {
	c, err := r.s.skipSpace()
	if err != nil {
		return 0, err
	}
	switch {
	case c == '{', c == '[', c == '"', c == 't', c == 'f', c == 'n', c == '-', '0' <= c && c <= '9':
		return c, nil
	}
	return 0, r.s.syntax("expected a value")
}

// Object reads an object, calling member for each key with the reader
// positioned on its value, which member must consume. The key is unescaped;
// it is valid only until member reads anything (it may be the reader's
// buffer), and nil when longer than 64 bytes.
func (r *Reader) Object(member func(key []byte) error) error {
	s := r.s
	if c, err := r.Kind(); err != nil || c != '{' {
		return r.want(err, "expected an object")
	}
	if err := r.push(true); err != nil {
		return err
	}
	s.pos++
	c, err := s.skipSpace()
	if err != nil || c == '}' {
		return r.closeEmpty(err)
	}
	for {
		key, err := r.readKey()
		if err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if more, err := r.next(); err != nil || !more {
			return err
		}
	}
}

// Map reads an object as encoding/json reads one into a map: each key
// unquoted like a string value, whatever its length, is passed to member
// with the reader positioned on its value, which member must consume.
func (r *Reader) Map(member func(key string) error) error {
	s := r.s
	if c, err := r.Kind(); err != nil || c != '{' {
		return r.want(err, "expected an object")
	}
	if err := r.push(true); err != nil {
		return err
	}
	s.pos++
	c, err := s.skipSpace()
	if err != nil || c == '}' {
		return r.closeEmpty(err)
	}
	for {
		key, err := r.String()
		if err == nil {
			err = s.expect(':', "expected ':'")
		}
		if err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if more, err := r.next(); err != nil || !more {
			return err
		}
	}
}

// Array reads an array, calling item with the reader positioned on each
// element, which item must consume.
func (r *Reader) Array(item func() error) error {
	s := r.s
	if c, err := r.Kind(); err != nil || c != '[' {
		return r.want(err, "expected an array")
	}
	if err := r.push(false); err != nil {
		return err
	}
	s.pos++
	c, err := s.skipSpace()
	if err != nil || c == ']' {
		return r.closeEmpty(err)
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if more, err := r.next(); err != nil || !more {
			return err
		}
	}
}

func (r *Reader) want(err error, msg string) error {
	if err != nil {
		return err
	}
	return r.s.syntax(msg)
}

// closeEmpty consumes the closing byte of an empty container.
func (r *Reader) closeEmpty(err error) error {
	if err != nil {
		return err
	}
	r.s.pos++
	r.depth--
	return nil
}

func (r *Reader) push(object bool) error {
	if r.depth >= maxNesting {
		return r.s.syntax("exceeded max depth")
	}
	w, bit := r.depth/64, uint64(1)<<(r.depth%64)
	if object {
		r.open[w] |= bit
	} else {
		r.open[w] &^= bit
	}
	r.depth++
	return nil
}

func (r *Reader) inObject() bool {
	d := r.depth - 1
	return r.open[d/64]&(1<<(d%64)) != 0
}

// readKey reads `"key":` and returns the unescaped key (nil when longer
// than maxReaderKeyLen).
func (r *Reader) readKey() ([]byte, error) {
	s := r.s
	if err := s.expect('"', "expected a key"); err != nil {
		return nil, err
	}
	if key, ok := s.bufferedKey(); ok {
		return key, nil
	}
	key, over, err := s.str(r.key[:0], len(r.key))
	if err != nil {
		return nil, err
	}
	if over {
		key = nil
	}
	return key, s.expect(':', "expected ':'")
}

// next is called after a member or element: it consumes ',' (and, in an
// object, the next key and colon) and reports true, or the closing byte and
// reports false.
func (r *Reader) next() (bool, error) {
	s := r.s
	c, err := s.skipSpace()
	if err != nil {
		return false, err
	}
	obj := r.inObject()
	switch {
	case c == ',':
		s.pos++
		return true, nil
	case c == '}' && obj, c == ']' && !obj:
		s.pos++
		r.depth--
		return false, nil
	}
	return false, s.syntax("expected ',' or closing bracket")
}

// Literal consumes true, false or null, whichever comes next.
func (r *Reader) Literal() error {
	c, err := r.Kind()
	if err != nil {
		return err
	}
	if c != 't' && c != 'f' && c != 'n' {
		return r.s.syntax("expected true, false or null")
	}
	return r.s.literal(literalOf(c))
}

// literalOf names the literal starting with c.
func literalOf(c byte) string {
	switch c {
	case 't':
		return "true"
	case 'f':
		return "false"
	}
	return "null"
}

// Number appends the text of the next value, which must be a number, to
// dst.
func (r *Reader) Number(dst []byte) ([]byte, error) {
	if c, err := r.Kind(); err != nil || c != '-' && (c < '0' || c > '9') {
		return dst, r.want(err, "expected a number")
	}
	return r.s.numberText(dst, true)
}

// Skip consumes the next value, whatever it is, validating it.
func (r *Reader) Skip() error {
	base := r.depth
	for {
		opened, err := r.scalarOrOpen()
		if err != nil {
			return err
		}
		if opened {
			continue
		}
		for r.depth > base {
			more, err := r.next()
			if err != nil {
				return err
			}
			if more {
				if r.inObject() {
					if _, err := r.readKey(); err != nil {
						return err
					}
				}
				break
			}
		}
		if r.depth == base {
			return nil
		}
	}
}

// scalarOrOpen consumes a scalar or an empty container and reports false,
// or opens a non-empty container, positioned on its first value, and
// reports true.
func (r *Reader) scalarOrOpen() (bool, error) {
	s := r.s
	c, err := r.Kind()
	if err != nil {
		return false, err
	}
	switch c {
	case '{', '[':
		if err := r.push(c == '{'); err != nil {
			return false, err
		}
		s.pos++
		end, err := s.skipSpace()
		if err != nil || end == c+2 { // '}' is '{'+2, ']' is '['+2
			return false, r.closeEmpty(err)
		}
		if c == '{' {
			_, err = r.readKey()
		}
		return err == nil, err
	case '"':
		s.pos++
		_, _, err = s.str(nil, 0)
		return false, err
	case 't', 'f', 'n':
		return false, r.Literal()
	}
	_, err = s.numberText(nil, false)
	return false, err
}

// String reads a string value and returns it unquoted as encoding/json
// does.
func (r *Reader) String() (string, error) {
	s := r.s
	if c, err := r.Kind(); err != nil || c != '"' {
		return "", r.want(err, "expected a string")
	}
	s.pos++
	if str, ok := s.bufferedString(); ok {
		return str, nil
	}
	r.chunks.reset()
	if err := s.strTo(&r.chunks); err != nil {
		return "", err
	}
	return r.chunks.string(), nil
}

// AppendString appends the next value, which must be a string, unquoted
// as String does, to dst.
func (r *Reader) AppendString(dst []byte) ([]byte, error) {
	if c, err := r.Kind(); err != nil || c != '"' {
		return dst, r.want(err, "expected a string")
	}
	r.s.pos++
	start := len(dst)
	dst, _, err := r.s.str(dst, int(^uint(0)>>1))
	if err == nil && !utf8.Valid(dst[start:]) {
		fixed := fixUTF8(nil, dst[start:])
		dst = append(dst[:start], fixed...)
	}
	return dst, err
}

// AppendRaw appends the next value's text, exactly as it is in the input,
// to dst.
func (r *Reader) AppendRaw(dst []byte) ([]byte, error) {
	s := r.s
	c, err := r.Kind()
	switch {
	case err != nil:
		return dst, err
	case c == '-' || '0' <= c && c <= '9':
		return s.numberText(dst, true) // a number's text is all of it
	case c == 't' || c == 'f' || c == 'n':
		lit := literalOf(c)
		return append(dst, lit...), s.literal(lit)
	case c == '"':
		if raw, ok := s.bufferedRawString(); ok {
			return append(dst, raw...), nil
		}
	}
	r.chunks.reset()
	s.capture, s.mark = &r.chunks, s.pos
	err = r.Skip()
	s.capture = nil
	if err != nil {
		return dst, err
	}
	tail := s.buf[s.mark:s.pos]
	dst = growBytes(dst, r.chunks.n+len(tail))
	dst = r.chunks.appendTo(dst)
	return append(dst, tail...), nil
}

// Raw returns the next value's text exactly as it is in the input, in a
// slice of its own.
func (r *Reader) Raw() ([]byte, error) { return r.AppendRaw(nil) }

// Compact returns the next value's text without the whitespace between
// tokens, as json.Compact writes it.
func (r *Reader) Compact() (string, error) {
	raw, err := r.Raw()
	if err != nil {
		return "", err
	}
	return string(compact(raw)), nil
}

// Finish checks that only whitespace follows the top-level value.
func (r *Reader) Finish() error { return r.s.finish() }

// Drain reads and discards the rest of the input, up to the limit, and
// returns the number of bytes consumed in all and why reading stopped: nil
// at the end of the input, else the reader's error, ErrTooLarge or the
// check's error.
func (r *Reader) Drain() (int64, error) {
	s := r.s
	for s.more() {
		s.pos = s.end
	}
	if s.err == io.EOF {
		return s.offset(), nil
	}
	return s.offset(), s.err
}

// Stopped returns why the input could not be read to its end (a read
// error, ErrTooLarge, the check's error), or nil.
func (r *Reader) Stopped() error {
	if r.s.err == io.EOF {
		return nil
	}
	return r.s.err
}

func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	return out
}

// fixUTF8 appends b to dst with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json does when it unquotes a string.
func fixUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// compact removes, in place, the whitespace outside strings of valid JSON.
func compact(b []byte) []byte {
	out, inStr, esc := b[:0], false, false
	for _, c := range b {
		switch {
		case inStr:
			inStr = esc || c != '"'
			esc = !esc && c == '\\'
		case c == ' ', c == '\t', c == '\n', c == '\r':
			continue
		case c == '"':
			inStr = true
		}
		out = append(out, c)
	}
	return out
}

// chunkBuf gathers a long value in pooled chunks of bufSize bytes, so it is
// copied once, into a result of the right size, whatever its length.
type chunkBuf struct {
	chunks []*[bufSize]byte
	n      int
}

func (c *chunkBuf) reset() { c.n = 0 }

func (c *chunkBuf) write(p []byte) {
	if off := c.n % bufSize; len(c.chunks) > c.n/bufSize && len(p) <= bufSize-off {
		c.n += copy(c.chunks[c.n/bufSize][off:], p) // the common case, inlined
		return
	}
	c.grow(p)
}

func (c *chunkBuf) grow(p []byte) {
	for len(p) > 0 {
		i, off := c.n/bufSize, c.n%bufSize
		if i == len(c.chunks) {
			c.chunks = append(c.chunks, bufPool.Get().(*[bufSize]byte))
		}
		k := copy(c.chunks[i][off:], p)
		p, c.n = p[k:], c.n+k
	}
}

// appendTo appends the gathered bytes to dst.
func (c *chunkBuf) appendTo(dst []byte) []byte {
	for i, left := 0, c.n; left > 0; i++ {
		k := min(left, bufSize)
		dst = append(dst, c.chunks[i][:k]...)
		left -= k
	}
	return dst
}

// string returns the gathered bytes as a string, with invalid UTF-8
// replaced as encoding/json does, copying them once.
func (c *chunkBuf) string() string {
	var sb strings.Builder
	sb.Grow(c.n)
	for i, left := 0, c.n; left > 0; i++ {
		k := min(left, bufSize)
		sb.Write(c.chunks[i][:k])
		left -= k
	}
	out := sb.String()
	if !utf8.ValidString(out) {
		return string(fixUTF8(nil, []byte(out)))
	}
	return out
}

func (c *chunkBuf) release() {
	for _, ch := range c.chunks {
		bufPool.Put(ch)
	}
	c.chunks, c.n = nil, 0
}
