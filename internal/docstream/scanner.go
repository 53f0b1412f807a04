package docstream

import (
	"errors"
	"fmt"
	"io"
)

// bufSize is the only buffer that holds raw response bytes; it does not grow,
// which is what keeps memory constant whatever the document size.
const bufSize = 64 << 10

// maxEmptyReads bounds a reader that keeps returning (0, nil).
const maxEmptyReads = 100

// scanner is a fixed-buffer byte source with JSON-level helpers. Parsing
// works on s.buf[s.pos:s.end] directly so the hot loops make no interface
// calls; r.Read is called only to refill.
type scanner struct {
	r     io.Reader
	buf   []byte
	pos   int
	end   int
	base  int64 // stream offset of buf[0]
	read  int64 // bytes consumed from r
	limit int64 // 0 means no limit
	err   error // sticky: io.EOF, a read error, a too-large error or check's error

	check   func() error // called before each read; its error stops reading
	capture *chunkBuf    // when set, consumed bytes from mark on are gathered here
	mark    int          // start in buf of the bytes not yet gathered
}

func newScanner(r io.Reader, limit int64) *scanner {
	return &scanner{r: r, buf: make([]byte, bufSize), limit: limit}
}

// offset is the stream position of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// more reports whether at least one unread byte is available, refilling the
// buffer if needed. When it returns false, s.err says why.
func (s *scanner) more() bool {
	if s.pos < s.end {
		return true
	}
	if s.err != nil {
		return false
	}
	if s.capture != nil {
		s.capture.write(s.buf[s.mark:s.end])
		s.mark = 0
	}
	s.base += int64(s.end)
	s.pos, s.end = 0, 0
	for empty := 0; s.end == 0 && s.err == nil; empty++ {
		if empty == maxEmptyReads {
			s.err = io.ErrNoProgress
			break
		}
		s.readOnce()
	}
	return s.end > 0
}

// readOnce appends one Read's worth of input after s.end.
func (s *scanner) readOnce() {
	if s.check != nil {
		if err := s.check(); err != nil {
			s.err = err
			return
		}
	}
	p := s.buf[s.end:]
	if s.limit > 0 {
		if room := s.limit - s.read + 1; room < int64(len(p)) {
			p = p[:room] // one byte past the cap is enough to detect it
		}
	}
	n, err := s.r.Read(p)
	if n < 0 || n > len(p) {
		n, err = 0, fmt.Errorf("docstream: reader returned invalid count %d", n)
	}
	s.read += int64(n)
	s.end += n
	if s.limit > 0 && s.read > s.limit {
		s.end -= int(s.read - s.limit)
		err = fmt.Errorf("%w (%d bytes)", ErrTooLarge, s.limit)
	}
	s.err = err
}

// fail is the error to return when more() was false in the middle of a value.
func (s *scanner) fail() error {
	if s.err == io.EOF {
		return fmt.Errorf("docstream: response truncated at byte %d: %w", s.offset(), io.ErrUnexpectedEOF)
	}
	if errors.Is(s.err, ErrTooLarge) {
		return s.err
	}
	return fmt.Errorf("docstream: reading response: %w", s.err)
}

func (s *scanner) syntax(msg string) error {
	return &SyntaxError{Offset: s.offset(), Msg: msg}
}

// ensure tries to make n unread bytes available (n is tiny), moving the
// unread tail to the front of the buffer first. It reports success.
func (s *scanner) ensure(n int) bool {
	if s.pos > 0 {
		if s.capture != nil {
			s.capture.write(s.buf[s.mark:s.pos])
			s.mark = 0
		}
		s.base += int64(s.pos)
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	for tries := 0; s.end < n && s.err == nil && tries < maxEmptyReads; tries++ {
		s.readOnce()
	}
	return s.end >= n
}

// peek returns the next byte without consuming it.
func (s *scanner) peek() (byte, error) {
	if !s.more() {
		return 0, s.fail()
	}
	return s.buf[s.pos], nil
}

// next consumes and returns one byte.
func (s *scanner) next() (byte, error) {
	c, err := s.peek()
	if err == nil {
		s.pos++
	}
	return c, err
}

// skipSpace consumes JSON whitespace and returns the following byte, unread.
func (s *scanner) skipSpace() (byte, error) {
	for {
		if !s.more() {
			return 0, s.fail()
		}
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
	}
}

// expect consumes whitespace then the byte c.
func (s *scanner) expect(c byte, msg string) error {
	got, err := s.skipSpace()
	if err != nil {
		return err
	}
	if got != c {
		return s.syntax(msg)
	}
	s.pos++
	return nil
}

// literal consumes the rest of true, false or null after its first byte.
func (s *scanner) literal(word string) error {
	for i := 0; i < len(word); i++ {
		c, err := s.next()
		if err != nil {
			return err
		}
		if c != word[i] {
			s.pos--
			return s.syntax("invalid literal")
		}
	}
	return nil
}

// finish checks that only whitespace follows the top-level value.
func (s *scanner) finish() error {
	for s.more() {
		for s.pos < s.end {
			switch s.buf[s.pos] {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return s.syntax("data after the top-level value")
			}
		}
	}
	if s.err == io.EOF {
		return nil
	}
	return s.fail()
}
