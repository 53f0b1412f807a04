package docstream

import "strconv"

// maxNumberLen is more than any int64 needs; longer numbers are only skipped.
const maxNumberLen = 32

// number consumes a JSON number, validating its grammar. It returns its text
// when the number is an integer of at most maxNumberLen bytes, else nil.
func (s *scanner) number(dst *[maxNumberLen]byte) ([]byte, error) {
	n, integer := 0, true
	add := func(c byte) {
		if n < len(dst) {
			dst[n] = c
		}
		n++
		s.pos++
	}
	if c, err := s.peek(); err != nil {
		return nil, err
	} else if c == '-' {
		add(c)
	}
	if err := s.digits(add, true); err != nil {
		return nil, err
	}
	if c, err := s.peek(); err != nil {
		return nil, err
	} else if c == '.' {
		integer = false
		add(c)
		if err := s.digits(add, false); err != nil {
			return nil, err
		}
	}
	if c, err := s.peek(); err != nil {
		return nil, err
	} else if c == 'e' || c == 'E' {
		integer = false
		add(c)
		if c, err := s.peek(); err != nil {
			return nil, err
		} else if c == '+' || c == '-' {
			add(c)
		}
		if err := s.digits(add, false); err != nil {
			return nil, err
		}
	}
	if !integer || n > len(dst) {
		return nil, nil
	}
	return dst[:n], nil
}

// digits consumes one or more decimal digits; with intPart a leading zero
// must stand alone, as JSON requires.
func (s *scanner) digits(add func(byte), intPart bool) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c < '0' || c > '9' {
		return s.syntax("invalid number")
	}
	add(c)
	if intPart && c == '0' {
		return nil
	}
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c < '0' || c > '9' {
			return nil
		}
		add(c)
	}
}

// numberText consumes a JSON number, validating its grammar, and appends
// its text to dst when keep is set. A number may end the input.
func (s *scanner) numberText(dst []byte, keep bool) ([]byte, error) {
	if c, err := s.peek(); err != nil {
		return dst, err
	} else if c == '-' {
		dst = appendIf(dst, keep, c)
		s.pos++
	}
	c, err := s.peek()
	switch {
	case err != nil:
		return dst, err
	case c == '0':
		dst = appendIf(dst, keep, c)
		s.pos++
	default:
		if dst, err = s.digitRun(dst, keep); err != nil {
			return dst, err
		}
	}
	if s.more() && s.buf[s.pos] == '.' {
		dst = appendIf(dst, keep, '.')
		s.pos++
		if dst, err = s.digitRun(dst, keep); err != nil {
			return dst, err
		}
	}
	if s.more() && (s.buf[s.pos] == 'e' || s.buf[s.pos] == 'E') {
		dst = appendIf(dst, keep, s.buf[s.pos])
		s.pos++
		if c, err := s.peek(); err != nil {
			return dst, err
		} else if c == '+' || c == '-' {
			dst = appendIf(dst, keep, c)
			s.pos++
		}
		return s.digitRun(dst, keep)
	}
	return dst, nil
}

func appendIf(dst []byte, keep bool, c byte) []byte {
	if keep {
		return append(dst, c)
	}
	return dst
}

// digitRun consumes one or more decimal digits; they may end the input.
func (s *scanner) digitRun(dst []byte, keep bool) ([]byte, error) {
	n := 0
	for s.more() {
		i := s.pos
		for i < s.end && '0' <= s.buf[i] && s.buf[i] <= '9' {
			i++
		}
		if keep {
			dst = append(dst, s.buf[s.pos:i]...)
		}
		n += i - s.pos
		s.pos = i
		if i < s.end {
			break
		}
	}
	if n > 0 {
		return dst, nil
	}
	if s.pos < s.end {
		return dst, s.syntax("invalid number")
	}
	return dst, s.fail()
}

// integer reads a JSON number that must be an int64.
func (s *scanner) integer(field string) (int64, error) {
	start := s.offset()
	var buf [maxNumberLen]byte
	text, err := s.number(&buf)
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseInt(string(text), 10, 64)
	if text == nil || perr != nil {
		return 0, &SyntaxError{Offset: start, Msg: field + ": expected an integer"}
	}
	return v, nil
}
