package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/visengine-go/visengine"
)

// An applicant file may come from someone else (an intake form, an
// e-mail), so what its "@file" values may name is narrow: a regular file
// inside the JSON file's folder, of a type a scan can be, within the size a
// file field may hold. Without these rules "@/proc/self/environ" sent the
// operator's credentials to Visengine as a scan, "../" and symlinks read
// anything the operator can, a FIFO hung the command and /dev/zero filled
// the memory.

// maxApplicantSize caps an applicant JSON: room for every file field of a
// service written inline as base64, and far below what hurts.
const maxApplicantSize = 64 << 20

// scanTypes are the MIME types a file field's content may be sniffed as.
var scanTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// readFileValue reads the file p, relative to dir and inside it, into the
// inline form of a file field, its MIME type taken from the content.
// Errors leave the path out: it is the field's value.
func readFileValue(dir, p string) (string, error) {
	if p = strings.TrimSpace(p); p == "" {
		return "", msgErr("atNoFile")
	}
	if !filepath.IsLocal(p) {
		return "", msgErr("atOutside")
	}
	if err := checkInside(dir, p); err != nil {
		return "", err
	}
	// os.Root keeps the open itself inside dir, whatever changes between
	// the check above and here.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", msgErr("folderUnreadable", withoutPath(err))
	}
	defer root.Close()
	content, err := readCapped(root, p, visengine.DefaultMaxFileSize)
	if err != nil {
		return "", msgErr("itsFile", err)
	}
	mime, _, _ := strings.Cut(http.DetectContentType(content), ";")
	if !isScanType(mime) {
		return "", msgErr("notScan", clean(mime))
	}
	return visengine.FileValue(filepath.Base(p), mime, content), nil
}

// checkInside refuses p (local to dir) when a symlink on its way leads out
// of dir, with an error that says so.
func checkInside(dir, p string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return msgErr("folderUnreadable", withoutPath(err))
	}
	real, err := filepath.EvalSymlinks(filepath.Join(dir, p))
	if err != nil {
		return msgErr("fileUnreadable", withoutPath(err))
	}
	if rel, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(rel) {
		return msgErr("symlinkOut")
	}
	return nil
}

func isScanType(mime string) bool {
	for _, t := range scanTypes {
		if mime == t {
			return true
		}
	}
	return false
}

// readCapped reads the regular file name (within root, or as is when root
// is nil) whole, refusing more than limit bytes. Its errors have no subject
// ("is a folder"): the caller names the file. It opens without blocking
// (a FIFO would otherwise wait for a writer forever) and refuses anything
// but a regular file before reading a byte.
func readCapped(root *os.Root, name string, limit int64) ([]byte, error) {
	var f *os.File
	var err error
	if root != nil {
		f, err = root.OpenFile(name, os.O_RDONLY|openNonBlock, 0)
	} else {
		f, err = os.OpenFile(name, os.O_RDONLY|openNonBlock, 0)
	}
	if err != nil {
		return nil, msgErr("cannotRead", withoutPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, msgErr("cannotRead", withoutPath(err))
	case st.IsDir():
		return nil, msgErr("isFolder")
	case !st.Mode().IsRegular():
		return nil, msgErr("notRegular")
	case st.Size() > limit:
		return nil, msgErr("tooBig", st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	switch {
	case err != nil:
		return nil, msgErr("cannotRead", withoutPath(err))
	case int64(len(b)) > limit: // it grew while read
		return nil, msgErr("grewTooBig", limit)
	}
	return b, nil
}
