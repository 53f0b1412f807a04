// Package docstream decodes the body of Visengine's GET /documento/{id} in
// one pass and in constant memory: a small JSON scanner walks the envelope
// and the data object, and the base64 "file" string is unescaped and decoded
// as it is read, straight into the caller's writer. Documents can be hundreds
// of MiB; encoding/json would hold the body, the string and the decoded bytes
// at once (about five times the document).
package docstream

import (
	"io"
	"strings"
)

// Options tunes Extract. The zero value means no limit and no progress.
type Options struct {
	// MaxBytes caps the number of response bytes read; beyond it Extract
	// fails with ErrTooLarge. Zero or negative means no cap.
	MaxBytes int64
	// Progress, if set, is called after each write to w with the decoded
	// bytes written so far and the expected total: "dimensione" when it came
	// before "file" in the response, else -1.
	Progress func(done, total int64)
}

// Meta is what Extract learnt from the envelope. Fields are filled as they
// are read, so after an error they describe the part read so far.
type Meta struct {
	Nome         string // data.nome, the file name (e.g. "<id>.zip")
	Dimensione   int64  // data.dimensione, the declared size; -1 if absent
	Success      bool   // the envelope's success flag; false if absent
	Message      string // the envelope's message, verbatim
	ErrorCode    *int   // the envelope's error code; nil if null or absent
	FileSeen     bool   // data.file was present as a string
	BytesWritten int64  // decoded bytes accepted by w
}

// maxTextLen caps nome and message: they are names and short sentences, and
// a cap keeps memory bounded against a hostile server.
const maxTextLen = 64 << 10

// Extract reads a documento response from r, writes the decoded bytes of
// data.file to w and returns the envelope's metadata. Keys may come in any
// order and unknown keys are skipped. Errors: *SyntaxError for malformed
// JSON (offset only, no content), ErrBase64, ErrTooLarge, an error wrapping
// io.ErrUnexpectedEOF for a truncated body, or the reader's or writer's error
// wrapped, and ErrOverDimensione.
//
// Extract checks dimensione only where nobody else can in time: when it
// precedes "file", decoded bytes beyond it stop the stream before they reach
// w (ErrOverDimensione); when it follows, only MaxBytes bounds the stream.
// Comparing the final length with dimensione, and the success flag, is the
// caller's policy.
func Extract(r io.Reader, w io.Writer, opts Options) (Meta, error) {
	p := &parser{
		s:    newScanner(r, opts.MaxBytes),
		w:    w,
		opts: opts,
		meta: Meta{Dimensione: -1},
	}
	err := p.run()
	return p.meta, err
}

type parser struct {
	s        *scanner
	w        io.Writer
	opts     Options
	meta     Meta
	seenData bool
}

func (p *parser) run() error {
	c, err := p.s.skipSpace()
	if err != nil {
		return err
	}
	if c != '{' {
		return p.s.syntax("expected a JSON object")
	}
	if err := p.s.object(p.topMember, 0); err != nil {
		return err
	}
	return p.s.finish()
}

func (p *parser) topMember(key []byte) error {
	c, err := p.s.skipSpace()
	if err != nil {
		return err
	}
	switch string(key) {
	case "data":
		return p.data(c)
	case "success":
		return p.boolean(c, &p.meta.Success)
	case "message":
		return p.text(c, &p.meta.Message, "message")
	case "error":
		return p.errorCode(c)
	}
	return p.s.skipValue(1)
}

func (p *parser) data(c byte) error {
	if p.seenData {
		return p.s.syntax("duplicate data key")
	}
	p.seenData = true
	switch c {
	case 'n':
		return p.s.literal("null")
	case '{':
		return p.s.object(p.dataMember, 1)
	}
	return p.s.syntax("data: expected an object or null")
}

func (p *parser) dataMember(key []byte) error {
	c, err := p.s.skipSpace()
	if err != nil {
		return err
	}
	switch string(key) {
	case "nome":
		return p.text(c, &p.meta.Nome, "nome")
	case "dimensione":
		if c == 'n' {
			p.meta.Dimensione = -1
			return p.s.literal("null")
		}
		start := p.s.offset()
		if p.meta.Dimensione, err = p.s.integer("dimensione"); err == nil && p.meta.Dimensione < 0 {
			p.meta.Dimensione = -1
			return &SyntaxError{Offset: start, Msg: "dimensione: negative"}
		}
		return err
	case "file":
		return p.file(c)
	}
	return p.s.skipValue(2)
}

func (p *parser) boolean(c byte, dst *bool) error {
	switch c {
	case 't':
		*dst = true
		return p.s.literal("true")
	case 'f':
		*dst = false
		return p.s.literal("false")
	}
	return p.s.syntax("success: expected true or false")
}

// text reads a string (or null) of at most maxTextLen bytes.
func (p *parser) text(c byte, dst *string, field string) error {
	switch c {
	case 'n':
		*dst = ""
		return p.s.literal("null")
	case '"':
		p.s.pos++
		b, over, err := p.s.str(nil, maxTextLen)
		if err != nil {
			return err
		}
		if over {
			return p.s.syntax(field + ": string too long")
		}
		*dst = strings.ToValidUTF8(string(b), "\uFFFD")
		return nil
	}
	return p.s.syntax(field + ": expected a string")
}

func (p *parser) errorCode(c byte) error {
	if c == 'n' {
		p.meta.ErrorCode = nil
		return p.s.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return p.s.syntax("error: expected an integer or null")
	}
	v, err := p.s.integer("error")
	if err != nil {
		return err
	}
	code := int(v)
	if int64(code) != v {
		return p.s.syntax("error: integer out of range")
	}
	p.meta.ErrorCode = &code
	return nil
}
