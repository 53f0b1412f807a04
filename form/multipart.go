package form

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"

	"github.com/visengine-go/visengine"
)

// posted is what a POST / carried, streamed into Values.
type posted struct {
	values  visengine.Values
	opzioni []string
	csrf    string
	files   map[string]string                // key → file name, for the confirmation page
	local   map[string]visengine.ProblemCode // problems found while reading (a file over the limit)
}

// bodyError is a body refused as a whole: over a limit (413) or not a
// multipart form (400). It names the limit, never a value.
type bodyError struct {
	status int
	limit  string // "total", "fields", "text" for 413
}

func (e *bodyError) Error() string { return "form: body refused: " + http.StatusText(e.status) }

// readPost streams the multipart body of r into a posted, within the
// limits: the whole body (MaxBytesReader), the number of parts, each text
// field and each file. A file over MaxFileSize is not kept: it is reported
// as too_large and the rest of the body is still read.
func (h *handler) readPost(w http.ResponseWriter, r *http.Request) (*posted, error) {
	r.Body = http.MaxBytesReader(w, r.Body, h.limits.MaxTotalSize)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &bodyError{status: http.StatusBadRequest}
	}
	p := &posted{values: visengine.Values{}, files: map[string]string{}, local: map[string]visengine.ProblemCode{}}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return nil, bodyErr(err)
		}
		if n >= h.limits.MaxFields {
			return nil, &bodyError{status: http.StatusRequestEntityTooLarge, limit: "fields"}
		}
		err = h.readPart(p, part)
		part.Close()
		if err != nil {
			return nil, err
		}
	}
}

// bodyErr maps a read error to a bodyError: over the total size, or
// unreadable.
func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &bodyError{status: http.StatusRequestEntityTooLarge, limit: "total"}
	}
	return &bodyError{status: http.StatusBadRequest}
}

// readPart stores one part: the CSRF token, an option, a field's text or
// file; parts with other names are read and dropped.
func (h *handler) readPart(p *posted, part *multipart.Part) error {
	name := part.FormName()
	switch name {
	case "csrf":
		s, err := readText(part, 256)
		p.csrf = s
		return err
	case "opzione":
		s, err := readText(part, 64)
		if s != "" {
			p.opzioni = append(p.opzioni, s)
		}
		return err
	}
	i, ok := h.st.byID[name]
	if !ok {
		_, err := io.Copy(io.Discard, part)
		return bodyErrOrNil(err)
	}
	f := h.st.fields[i]
	if f.File() {
		return h.readFile(p, f, part)
	}
	s, err := readText(part, h.limits.MaxTextSize)
	if err != nil {
		return err
	}
	if s != "" {
		p.values[f.Key] = s
	}
	return nil
}

func bodyErrOrNil(err error) error {
	if err != nil {
		return bodyErr(err)
	}
	return nil
}

// readText reads a text part of at most limit bytes.
func readText(r io.Reader, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return "", bodyErr(err)
	}
	if int64(len(b)) > limit {
		return "", &bodyError{status: http.StatusRequestEntityTooLarge, limit: "text"}
	}
	return string(b), nil
}

// readFile encodes a file part to base64 as it arrives, into the inline
// form Visengine expects (name|data:<mime>;base64,<content>), written
// straight into the value's one buffer. The MIME type is the browser's, or
// sniffed from the first bytes when it sent none or a generic one. An
// empty part with no file name is a file not chosen.
func (h *handler) readFile(p *posted, f Field, part *multipart.Part) error {
	br := bufio.NewReaderSize(part, 512)
	head, _ := br.Peek(512)
	if len(head) == 0 && part.FileName() == "" {
		return nil
	}
	name := path.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
	if name == "." || name == "/" {
		name = ""
	}
	var value doublingBuilder
	value.WriteString(name + "|data:" + fileType(part.Header.Get("Content-Type"), head) + ";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &value)
	n, err := io.Copy(enc, io.LimitReader(br, h.limits.MaxFileSize+1))
	if err != nil {
		return bodyErr(err)
	}
	if n > h.limits.MaxFileSize {
		p.local[f.Key] = visengine.ProblemCodeTooLarge
		_, err := io.Copy(io.Discard, br)
		return bodyErrOrNil(err)
	}
	enc.Close()
	p.files[f.Key] = name
	p.values[f.Key] = value.String()
	return nil
}

// doublingBuilder is a strings.Builder that doubles its capacity when full:
// append grows large slices by a quarter, which for a 5 MB file allocates
// five times its size along the way; doubling allocates twice.
type doublingBuilder struct{ strings.Builder }

func (b *doublingBuilder) Write(p []byte) (int, error) {
	if b.Cap()-b.Len() < len(p) {
		b.Grow(max(len(p), b.Cap()))
	}
	return b.Builder.Write(p)
}

// fileType is the part's declared MIME type without parameters, or the
// sniffed one when the browser sent none or application/octet-stream.
func fileType(declared string, head []byte) string {
	if t, _, err := mime.ParseMediaType(declared); err == nil && t != "application/octet-stream" && strings.Count(t, "/") == 1 {
		return t
	}
	t, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	return t
}
