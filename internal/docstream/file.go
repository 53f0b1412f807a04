package docstream

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// outSize is the decoded-bytes buffer: writes to w are this large, so a file
// or socket sees few, big writes.
const outSize = 48 << 10

// plain marks bytes that pass from the JSON string to the base64 decoder
// unchanged. The decoder, not this table, rejects non-base64 bytes.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// file streams the data.file string (its first byte c) into w.
func (p *parser) file(c byte) error {
	if p.meta.FileSeen {
		return p.s.syntax("duplicate file key")
	}
	switch c {
	case 'n':
		return p.s.literal("null")
	case '"':
	default:
		return p.s.syntax("file: expected a string")
	}
	p.s.pos++
	p.meta.FileSeen = true
	fr := &fileReader{s: p.s}
	dec := base64.NewDecoder(base64.StdEncoding, fr)
	out := make([]byte, outSize)
	total := p.meta.Dimensione
	for {
		n, err := readFull(dec, out)
		if n > 0 {
			if werr := p.write(out[:n], total); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fr.classify(err)
		}
	}
}

// readFull is io.ReadFull without its rewriting of io.ErrUnexpectedEOF, which
// the base64 decoder uses for an incomplete final group.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// write passes b to w and reports progress. When dimensione was announced
// before the file (total >= 0), a chunk that would take the document past
// it is refused whole, so w never holds more than the announced size.
func (p *parser) write(b []byte, total int64) error {
	if total >= 0 && int64(len(b)) > total-p.meta.BytesWritten {
		return fmt.Errorf("%w (%d bytes)", ErrOverDimensione, total)
	}
	n, err := p.w.Write(b)
	if n < 0 || n > len(b) {
		n, err = 0, errors.New("invalid write count")
	}
	p.meta.BytesWritten += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("docstream: writing document: %w", err)
	}
	if p.opts.Progress != nil {
		p.opts.Progress(p.meta.BytesWritten, total)
	}
	return nil
}

// fileReader yields the unescaped base64 text of the file string, dropping
// line wrapping, until the closing quote (then io.EOF).
type fileReader struct {
	s      *scanner
	closed bool  // the closing quote was consumed
	padded bool  // an '=' was seen: only '=' may follow
	err    error // sticky: the first error met in the JSON layer
}

func (f *fileReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !f.closed && f.err == nil {
		s := f.s
		if !s.more() {
			f.err = s.fail()
			break
		}
		run := s.buf[s.pos:s.end]
		if len(run) > len(p)-n {
			run = run[:len(p)-n]
		}
		i := 0
		for i < len(run) && plain[run[i]] {
			i++
		}
		if i > 0 {
			f.err = f.checkPad(run[:i])
			n += copy(p[n:], run[:i])
			s.pos += i
			continue
		}
		var b byte
		var emit bool
		b, emit, f.err = f.special()
		if emit && f.err == nil {
			p[n] = b
			f.err = f.checkPad(p[n : n+1])
			n++
		}
	}
	if n > 0 {
		return n, nil
	}
	if f.closed {
		return 0, io.EOF
	}
	return 0, f.err
}

// special consumes a byte that is not plain: the closing quote, a literal
// line break, or an escape. It returns the byte to pass on, if any.
func (f *fileReader) special() (b byte, emit bool, err error) {
	s := f.s
	c := s.buf[s.pos]
	s.pos++
	switch c {
	case '"':
		f.closed = true
		return 0, false, nil
	case '\n', '\r':
		return 0, false, nil
	case '\\':
		return f.escape()
	}
	s.pos--
	return 0, false, s.syntax("control character in string")
}

// escape decodes an escape inside the file string. Only ASCII can be base64,
// so \u escapes above 0x7F are rejected here; other odd bytes (a quote, a
// tab) are passed on and rejected by the decoder, as the naive path would.
func (f *fileReader) escape() (byte, bool, error) {
	s := f.s
	c, err := s.next()
	if err != nil {
		return 0, false, err
	}
	switch c {
	case '/', '\\', '"':
		return c, true, nil
	case 'n', 'r':
		return 0, false, nil
	case 'b':
		return '\b', true, nil
	case 'f':
		return '\f', true, nil
	case 't':
		return '\t', true, nil
	case 'u':
		start := s.offset() - 2
		r, err := s.hex4()
		switch {
		case err != nil:
			return 0, false, err
		case r == '\n' || r == '\r':
			return 0, false, nil
		case r >= 0x80:
			return 0, false, fmt.Errorf("%w: non-ASCII escape at byte %d", ErrBase64, start)
		}
		return byte(r), true, nil
	}
	s.pos--
	return 0, false, s.syntax("invalid escape in string")
}

// checkPad enforces that nothing but '=' follows the first '='. The streaming
// decoder would otherwise accept "QQ==QQ==" when a read ends at the padding,
// where base64.StdEncoding.DecodeString rejects it.
func (f *fileReader) checkPad(b []byte) error {
	if !f.padded {
		i := bytes.IndexByte(b, '=')
		if i < 0 {
			return nil
		}
		f.padded = true
		b = b[i:]
	}
	for _, c := range b {
		if c != '=' {
			return fmt.Errorf("%w: data after padding", ErrBase64)
		}
	}
	return nil
}

// classify turns the decoder's error into Extract's error: the JSON layer's
// own error first, else a base64 error.
func (f *fileReader) classify(err error) error {
	if f.err != nil {
		return f.err
	}
	var corrupt base64.CorruptInputError
	switch {
	case errors.As(err, &corrupt):
		return fmt.Errorf("%w: %w", ErrBase64, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The string ended (f.closed) inside a 4-character group.
		return fmt.Errorf("%w: incomplete final group", ErrBase64)
	}
	return err
}
