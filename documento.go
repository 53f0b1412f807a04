package visengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/visengine-go/visengine/internal/docstream"
)

// Response-size caps for documents. A Visengine zip is usually well under a
// MiB, but documents with many scanned pages exist; the caps bound what a
// broken or hostile server can make us read.
const (
	// DefaultMaxDocumentResponse caps DownloadDocumento's response body.
	DefaultMaxDocumentResponse = 512 << 20
	// DefaultMaxInMemoryResponse caps GetDocumento's response body (about
	// 23 MiB of document); use DownloadDocumento for larger documents.
	DefaultMaxInMemoryResponse = 32 << 20
)

// DocumentoInfo describes a downloaded document, from GET /documento/{id}.
type DocumentoInfo struct {
	Nome       string // file name chosen by the server, e.g. "<id>.zip"
	Dimensione int64  // size in bytes; the download is checked against it
}

// PartialDownloadError is returned when a download failed after some bytes
// had already been written to the caller's writer: those bytes are not a
// valid document and must be discarded. The download is not retried then,
// since the writer cannot be rewound.
type PartialDownloadError struct {
	Written int64 // bytes written to the writer before the failure
	Err     error // the cause
}

// Error implements error.
func (e *PartialDownloadError) Error() string {
	if e == nil {
		return "visengine: <nil PartialDownloadError>"
	}
	msg := fmt.Sprintf("visengine: download failed after %d bytes were written; discard them", e.Written)
	if e.Err != nil {
		msg += ": " + bare(e.Err)
	}
	return msg
}

// Unwrap returns the cause.
func (e *PartialDownloadError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

type downloadConfig struct {
	maxBytes int64
	progress func(done, total int64)
}

// DownloadOption configures a document download.
type DownloadOption func(*downloadConfig)

// WithMaxResponseSize caps the response body at n bytes (the base64 text is
// about 4/3 of the document); beyond it the download fails with
// ErrResponseTooLarge.
func WithMaxResponseSize(n int64) DownloadOption {
	return func(c *downloadConfig) { c.maxBytes = n }
}

// WithDownloadProgress calls fn as decoded bytes are written, with the bytes done
// and the expected total (-1 while unknown); the last call has done equal to
// the document's size. fn runs on the downloading goroutine.
func WithDownloadProgress(fn func(done, total int64)) DownloadOption {
	return func(c *downloadConfig) { c.progress = fn }
}

// DownloadDocumento streams the document of richiesta id (a zip) into w, in
// memory that does not grow with the document. It checks that the server
// reported success, that the length matches "dimensione" (ErrIntegrity) and
// that the content is a zip (ErrNotZip). A document not produced yet gives
// an *APIError matching ErrDocumentNotReady. A failure after bytes reached w
// is a *PartialDownloadError.
//
// How much reaches w depends on where the server puts "dimensione". When
// it comes before "file" (as in Visengine's documented answer), the
// download stops with ErrIntegrity as soon as the decoded data would pass
// it, and w never receives more than dimensione bytes. When it comes after
// "file", the size is unknown while streaming: only the response cap
// (WithMaxResponseSize, DefaultMaxDocumentResponse) bounds what w
// receives, and the length is compared with dimensione at the end.
func (c *Client) DownloadDocumento(ctx context.Context, id string, w io.Writer, opts ...DownloadOption) (*DocumentoInfo, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, invalidArg("writer", "is nil")
	}
	cfg := downloadConfig{maxBytes: DefaultMaxDocumentResponse}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return c.download(ctx, id, w, cfg)
}

func (c *Client) download(ctx context.Context, id string, w io.Writer, cfg downloadConfig) (*DocumentoInfo, error) {
	resp, echo, err := c.stream(ctx, "/documento/"+id)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if cfg.maxBytes > 0 && resp.ContentLength > cfg.maxBytes {
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrResponseTooLarge, resp.ContentLength, cfg.maxBytes)
	}
	sniff := &zipSniffer{w: w}
	p := &progress{fn: cfg.progress}
	meta, err := docstream.Extract(resp.Body, sniff, docstream.Options{MaxBytes: cfg.maxBytes, Progress: p.report})
	if err == nil {
		err = checkDocument(resp.StatusCode, meta, sniff)
		echo.scrubError(err)
	} else {
		err = streamError(resp.StatusCode, meta, err)
	}
	if err != nil {
		if sniff.written > 0 {
			return nil, &PartialDownloadError{Written: sniff.written, Err: err}
		}
		return nil, err
	}
	p.finish(meta.BytesWritten, meta.Dimensione)
	return &DocumentoInfo{Nome: meta.Nome, Dimensione: meta.Dimensione}, nil
}

// checkDocument applies the envelope's verdict and the integrity checks to a
// body that was read completely.
func checkDocument(status int, meta docstream.Meta, sniff *zipSniffer) error {
	switch {
	case !meta.Success && meta.ErrorCode == nil && meta.Message == "":
		return unexpectedResponse(status, "envelope without success or error")
	case !meta.Success:
		code := 0
		if meta.ErrorCode != nil {
			code = *meta.ErrorCode
		}
		return newAPIError(status, code, meta.Message)
	case !meta.FileSeen:
		return unexpectedResponse(status, "success without data.file")
	case meta.Dimensione < 0:
		return unexpectedResponse(status, "success without data.dimensione")
	case meta.BytesWritten != meta.Dimensione:
		return fmt.Errorf("%w: decoded %d bytes, dimensione is %d", ErrIntegrity, meta.BytesWritten, meta.Dimensione)
	}
	return sniff.close()
}

// streamError maps a docstream failure to the package's errors.
func streamError(status int, meta docstream.Meta, err error) error {
	var syntax *docstream.SyntaxError
	switch {
	case errors.Is(err, errNotZipHead):
		return fmt.Errorf("%w: the document does not start with a zip signature", ErrNotZip)
	case errors.Is(err, docstream.ErrOverDimensione):
		return fmt.Errorf("%w: the document is longer than the %d bytes dimensione announced", ErrIntegrity, meta.Dimensione)
	case errors.Is(err, docstream.ErrTooLarge):
		return fmt.Errorf("%w: %v", ErrResponseTooLarge, err)
	case errors.As(err, &syntax), errors.Is(err, docstream.ErrBase64):
		return unexpectedResponse(status, "document body: %v", err)
	case errors.Is(err, ErrStalled):
		return readFailure(status, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %w", unexpectedResponse(status, "document body: %v", err), io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("visengine: GET /documento: %w", err)
}

// progress forwards docstream's reports and makes sure the last one names
// the final size, which docstream cannot know when "dimensione" follows
// "file" in the response.
type progress struct {
	fn        func(done, total int64)
	last      int64
	lastTotal int64
	called    bool
}

func (p *progress) report(done, total int64) {
	if p.fn == nil {
		return
	}
	p.last, p.lastTotal, p.called = done, total, true
	p.fn(done, total)
}

func (p *progress) finish(done, total int64) {
	if p.fn != nil && (!p.called || p.last != done || p.lastTotal != total) {
		p.fn(done, total)
	}
}

// errNotZipHead stops the stream as soon as the first bytes are known not
// to be a zip, before they reach the caller's writer.
var errNotZipHead = errors.New("not a zip")

// zipSniffer holds back the first four bytes until they can be compared
// with the zip signatures: a local file header, or the end record of an
// empty archive.
type zipSniffer struct {
	w       io.Writer
	head    [4]byte
	n       int   // bytes held in head
	ok      bool  // head checked and passed on
	written int64 // bytes accepted by w
}

func (z *zipSniffer) Write(p []byte) (int, error) {
	if z.ok {
		return z.pass(p)
	}
	taken := copy(z.head[z.n:], p)
	z.n += taken
	if z.n < len(z.head) {
		return taken, nil
	}
	if !isZipHead(z.head[:]) {
		return 0, errNotZipHead
	}
	z.ok = true
	if n, err := z.pass(z.head[:]); err != nil {
		return max(n-(len(z.head)-taken), 0), err
	}
	n, err := z.pass(p[taken:])
	return taken + n, err
}

func (z *zipSniffer) pass(p []byte) (int, error) {
	n, err := z.w.Write(p)
	z.written += int64(n)
	return n, err
}

// close reports a document too short to hold a signature.
func (z *zipSniffer) close() error {
	if !z.ok {
		return fmt.Errorf("%w: document of %d bytes", ErrNotZip, z.n)
	}
	return nil
}

func isZipHead(b []byte) bool {
	return bytes.Equal(b, []byte("PK\x03\x04")) || bytes.Equal(b, []byte("PK\x05\x06"))
}

// DownloadToFile downloads the document of richiesta id (GET
// /documento/{id}, a zip) to path, for example "out/"+id+".zip". Missing
// folders on the way to path are created with mode 0700, since documents
// hold personal data; existing ones are left as they are.
//
// The document goes to a temporary file (mode 0600) in path's folder, which
// is synced and renamed over path only once the whole document has arrived
// and checked out, so path is either the complete document or untouched.
// On error nothing is left behind: neither the temporary file nor the
// folders DownloadToFile created.
//
// A failure of the file system is an *fs.PathError naming path as the
// caller gave it (never the temporary file). A failure of the download is
// the error DownloadDocumento returns, except that it is never a
// *PartialDownloadError: the partial bytes were in the temporary file,
// already removed.
func (c *Client) DownloadToFile(ctx context.Context, id, path string, opts ...DownloadOption) (*DocumentoInfo, error) {
	switch { // checked before the disk is touched
	case c == nil:
		return nil, invalidArg("client", "is nil")
	case ctx == nil:
		return nil, invalidArg("context", "is nil")
	case path == "":
		return nil, invalidArg("path", "is empty")
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	created, err := mkdirParents(dir)
	if err != nil {
		return nil, fileError("create the folder of", path, err)
	}
	info, err := c.downloadToFile(ctx, id, path, opts)
	if err != nil {
		removeDirs(created)
		return nil, err
	}
	syncDir(dir)
	return info, nil
}

// syncDir makes the rename durable where the OS allows syncing a folder;
// the document is already complete, so a failure here is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Documento is a document held in memory, from GetDocumento. Printing it
// with fmt shows its name and size, never its bytes.
type Documento struct {
	DocumentoInfo
	Data []byte // the zip archive
}

// GetDocumento downloads the document of richiesta id into memory, for small
// documents; the response is capped at DefaultMaxInMemoryResponse unless
// WithMaxResponseSize says otherwise. Errors are those of DownloadDocumento.
func (c *Client) GetDocumento(ctx context.Context, id string, opts ...DownloadOption) (*Documento, error) {
	opts = append([]DownloadOption{WithMaxResponseSize(DefaultMaxInMemoryResponse)}, opts...)
	var buf bytes.Buffer
	info, err := c.DownloadDocumento(ctx, id, &buf, opts...)
	if err != nil {
		return nil, err
	}
	return &Documento{DocumentoInfo: *info, Data: buf.Bytes()}, nil
}

// Zip opens the document as a checked zip archive (see OpenZip).
func (d *Documento) Zip(opts ...ZipOption) (*ZipArchive, error) {
	if d == nil {
		return nil, invalidArg("documento", "is nil")
	}
	return OpenZip(bytes.NewReader(d.Data), int64(len(d.Data)), opts...)
}

// String names the document and its size, not its content.
func (d Documento) String() string {
	return fmt.Sprintf("visengine.Documento{Nome: %q, Dimensione: %d, Data: %d bytes}", d.Nome, d.Dimensione, len(d.Data))
}

// GoString is String, so %#v does not print the bytes either.
func (d Documento) GoString() string { return d.String() }

// Format prints String for every verb, so %v, %+v, %x cannot reach the bytes.
func (d Documento) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }
