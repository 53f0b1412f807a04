package visengine

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ZipError describes why an archive or one of its entries was refused.
// Entry is the name as stored in the archive; it comes from the server, so
// Error quotes and shortens it rather than printing it raw.
type ZipError struct {
	Entry  string // raw entry name; empty for archive-wide problems
	Reason string // fixed description of the problem
	Err    error  // ErrUnsafeZip or ErrIntegrity
	cause  error  // underlying archive/zip or I/O error, if any
}

// Error implements error.
func (e *ZipError) Error() string {
	if e == nil || e.Err == nil {
		return "visengine: <nil ZipError>"
	}
	msg := e.Err.Error() + ": " + e.Reason
	if e.Entry != "" {
		msg += " (entry " + quoteName(e.Entry) + ")"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap gives the sentinel and the underlying cause to errors.Is/As.
func (e *ZipError) Unwrap() []error {
	if e == nil {
		return nil
	}
	if e.cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.cause}
}

// quoteName makes a server-chosen name safe for an error string or log:
// Go-quoted (control bytes escaped) and at most 100 bytes of the original.
func quoteName(name string) string {
	if len(name) > 100 {
		return strconv.Quote(name[:100]) + "..."
	}
	return strconv.Quote(name)
}

func unsafeZip(entry, reason string) error {
	return &ZipError{Entry: entry, Reason: reason, Err: ErrUnsafeZip}
}

func integrity(entry, reason string, cause error) error {
	return &ZipError{Entry: entry, Reason: reason, Err: ErrIntegrity, cause: cause}
}

// Default limits for OpenZip. A Visengine zip holds a handful of PDFs; the
// limits leave ample room while stopping bombs.
const (
	// DefaultZipMaxEntries is the most entries (files and folders) accepted.
	DefaultZipMaxEntries = 1000
	// DefaultZipMaxTotalSize is the most bytes all entries may declare (1 GiB).
	DefaultZipMaxTotalSize = 1 << 30
	// DefaultZipMaxRatio is the highest uncompressed:compressed ratio of an
	// entry over 64 KiB; PDFs rarely pass 10:1, bombs reach 1000:1.
	DefaultZipMaxRatio = 100
	// zipRatioMinSize exempts small entries from the ratio check: a few KiB
	// of repetitive text legitimately compress far better than 100:1.
	zipRatioMinSize = 64 << 10
)

type zipConfig struct {
	maxEntries   int
	maxTotalSize int64
	maxRatio     int64
}

// ZipOption changes a limit of OpenZip.
type ZipOption func(*zipConfig)

// WithZipMaxEntries sets the most entries (files and directories) accepted.
func WithZipMaxEntries(n int) ZipOption { return func(c *zipConfig) { c.maxEntries = n } }

// WithZipMaxTotalSize sets the most bytes the entries may declare in total.
func WithZipMaxTotalSize(n int64) ZipOption { return func(c *zipConfig) { c.maxTotalSize = n } }

// WithZipMaxRatio sets the highest uncompressed:compressed ratio accepted for
// entries over 64 KiB.
func WithZipMaxRatio(r int64) ZipOption { return func(c *zipConfig) { c.maxRatio = r } }

// ZipEntry describes one regular file in an archive.
type ZipEntry struct {
	Name     string    // slash-separated path inside the archive, checked safe
	Size     int64     // declared uncompressed size in bytes
	Modified time.Time // modification time recorded in the archive
}

// ZipArchive is a zip whose every entry passed OpenZip's checks. Reading it
// still verifies each entry's length and checksum against its header.
type ZipArchive struct {
	files  []*zip.File // regular files, in archive order
	dirs   []string    // directory entries, cleaned
	byName map[string]*zip.File
	closer io.Closer // the file opened by OpenZipFile, else nil
}

// OpenZip reads the archive's directory from r and checks every entry before
// returning: any unsafe name, link, duplicate, unsupported method or size
// beyond the limits refuses the whole archive with a *ZipError wrapping
// ErrUnsafeZip. Input that is not a zip gives an error wrapping ErrNotZip.
//
// Names must extract to the same distinct, visible files on every OS, so
// these are refused too: control and invisible format characters
// (zero-width, bidi controls, BOM), spaces other than U+0020, combining
// marks and the few characters Unicode normalization rewrites (a name must
// be in NFC with precomposed letters, like "é"), private-use and unassigned
// code points, Windows device names in any case and with any extension
// ("CON", "aux.pdf", "lpt1/x"), the characters < > " | ? *, path elements
// ending in a dot or space, and two names equal after case folding
// ("A.pdf" and "a.pdf", "Straße" and "STRASSE").
//
// The entry count is checked before archive/zip parses the directory, by
// counting its headers up to the limit: an end record that understates the
// count (its 16-bit field wraps) cannot make OpenZip parse more.
func OpenZip(r io.ReaderAt, size int64, opts ...ZipOption) (*ZipArchive, error) {
	cfg := zipConfig{DefaultZipMaxEntries, DefaultZipMaxTotalSize, DefaultZipMaxRatio}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if r == nil {
		return nil, fmt.Errorf("%w: nil reader", ErrNotZip)
	}
	if err := checkEntryCount(r, size, cfg.maxEntries); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // our own checks are stricter
		return nil, fmt.Errorf("%w: %w", ErrNotZip, err)
	}
	if len(zr.File) > cfg.maxEntries {
		return nil, unsafeZip("", fmt.Sprintf("%d entries, more than the limit of %d", len(zr.File), cfg.maxEntries))
	}
	a := &ZipArchive{byName: make(map[string]*zip.File, len(zr.File))}
	if err := a.check(zr.File, cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// OpenZipFile opens and checks the zip archive at path; Close releases it.
func OpenZipFile(path string, opts ...ZipOption) (*ZipArchive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		var a *ZipArchive
		if a, err = OpenZip(f, st.Size(), opts...); err == nil {
			a.closer = f
			return a, nil
		}
	}
	f.Close()
	return nil, err
}

// Close releases the file opened by OpenZipFile; it does nothing otherwise.
func (a *ZipArchive) Close() error {
	if a == nil {
		return invalidArg("zip archive", "is nil") // as os.File.Close on nil
	}
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}

// check validates every entry and fills a's indexes.
func (a *ZipArchive) check(files []*zip.File, cfg zipConfig) error {
	isDirByKey := make(map[string]bool, len(files)) // foldKey of the cleaned name
	var total int64
	for _, f := range files {
		name, isDir, err := checkEntry(f, cfg)
		if err != nil {
			return err
		}
		key := foldKey(name)
		if _, dup := isDirByKey[key]; dup {
			return unsafeZip(f.Name, "duplicate name (possibly differing only in case or Unicode form)")
		}
		isDirByKey[key] = isDir
		if isDir {
			a.dirs = append(a.dirs, name)
			continue
		}
		size := int64(f.UncompressedSize64)
		if size > cfg.maxTotalSize-total {
			return unsafeZip(f.Name, fmt.Sprintf("total declared size over the limit of %d bytes", cfg.maxTotalSize))
		}
		total += size
		a.files = append(a.files, f)
		a.byName[name] = f
	}
	return checkParents(isDirByKey)
}

// checkEntry checks one entry's name, type, method and sizes, returning the
// name without a trailing slash and whether the entry is a directory.
func checkEntry(f *zip.File, cfg zipConfig) (string, bool, error) {
	isDir := strings.HasSuffix(f.Name, "/") || f.Mode().IsDir()
	name := strings.TrimSuffix(f.Name, "/")
	if reason := unsafeName(name); reason != "" {
		return "", false, unsafeZip(f.Name, reason)
	}
	switch {
	case f.Mode()&fs.ModeType&^fs.ModeDir != 0:
		return "", false, unsafeZip(f.Name, "not a regular file or directory (link, device, pipe...)")
	case isDir && (f.UncompressedSize64 != 0 || !strings.HasSuffix(f.Name, "/") || !f.Mode().IsDir()):
		return "", false, unsafeZip(f.Name, "inconsistent directory entry")
	case f.Flags&0x1 != 0:
		return "", false, unsafeZip(f.Name, "encrypted entry")
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return "", false, unsafeZip(f.Name, fmt.Sprintf("unsupported compression method %d", f.Method))
	case f.Method == zip.Store && f.CompressedSize64 != f.UncompressedSize64:
		return "", false, unsafeZip(f.Name, "stored entry with different compressed and uncompressed sizes")
	case f.UncompressedSize64 > uint64(cfg.maxTotalSize):
		return "", false, unsafeZip(f.Name, fmt.Sprintf("declared size over the limit of %d bytes", cfg.maxTotalSize))
	case f.UncompressedSize64 > zipRatioMinSize && overRatio(f.UncompressedSize64, f.CompressedSize64, cfg.maxRatio):
		return "", false, unsafeZip(f.Name, fmt.Sprintf("compression ratio over %d:1", cfg.maxRatio))
	}
	return name, isDir, nil
}

// overRatio reports whether u > c·r, without the overflow a forged
// compressed size could cause.
func overRatio(u, c uint64, r int64) bool {
	if r <= 0 {
		return true
	}
	hi, lo := bits.Mul64(c, uint64(r))
	return hi == 0 && u > lo
}

// checkParents refuses a file that another entry needs as a directory
// ("a" and "a/b"): extraction would fail half-way.
func checkParents(isDirByKey map[string]bool) error {
	for key := range isDirByKey {
		for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
			if isDir, ok := isDirByKey[dir]; ok && !isDir {
				return unsafeZip(key, "a parent path is also a file entry")
			}
		}
	}
	return nil
}

// Files lists the regular files, sorted by name.
func (a *ZipArchive) Files() []ZipEntry {
	if a == nil {
		return nil
	}
	out := make([]ZipEntry, 0, len(a.files))
	for _, f := range a.files {
		out = append(out, ZipEntry{Name: f.Name, Size: int64(f.UncompressedSize64), Modified: f.Modified})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Open returns a reader for the file name (as listed by Files). Reading
// fails with a *ZipError wrapping ErrIntegrity if the content is longer or
// shorter than declared or its checksum is wrong.
func (a *ZipArchive) Open(name string) (io.ReadCloser, error) {
	if a == nil {
		return nil, invalidArg("zip archive", "is nil")
	}
	f, ok := a.byName[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: quoteName(name), Err: fs.ErrNotExist}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, integrity(f.Name, "cannot open entry", err)
	}
	return &entryReader{rc: rc, name: f.Name, left: int64(f.UncompressedSize64)}, nil
}

// entryReader counts bytes against the declared size. archive/zip checks
// this too, but our own count gives the typed error and does not depend on
// that implementation detail.
type entryReader struct {
	rc   io.ReadCloser
	name string
	left int64
}

func (r *entryReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	switch {
	case r.left < 0:
		return n + int(r.left), integrity(r.name, "content longer than declared", nil)
	case err == io.EOF && r.left > 0:
		return n, integrity(r.name, "content shorter than declared", nil)
	case err != nil && err != io.EOF:
		return n, integrity(r.name, "cannot read entry", err)
	}
	return n, err
}

func (r *entryReader) Close() error { return r.rc.Close() }
