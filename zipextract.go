package visengine

import (
	"archive/zip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
)

// Permissions of what ExtractTo creates: documents carry personal data, so
// files are readable by their owner only; directories let the group list.
const (
	extractFileMode = 0o600
	extractDirMode  = 0o750
)

// ExtractTo writes the archive's directories and files under dir (created if
// missing) through an os.Root, so no entry can reach outside dir even through
// a link planted there by someone else. Existing files are never overwritten.
// Each file is written through a writer that stops at its declared size; on
// any error everything ExtractTo created is removed again.
func (a *ZipArchive) ExtractTo(dir string) (err error) {
	if a == nil {
		return invalidArg("zip archive", "is nil")
	}
	if err := os.MkdirAll(dir, extractDirMode); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	x := &extractor{root: root}
	defer func() {
		if err != nil {
			x.undo()
		}
	}()
	for _, d := range a.dirs {
		if err := x.mkdirAll(d); err != nil {
			return err
		}
	}
	for _, f := range a.files {
		if err := x.file(f); err != nil {
			return err
		}
	}
	return nil
}

// extractor remembers what it created so a failed extraction leaves nothing.
type extractor struct {
	root    *os.Root
	created []string
}

func (x *extractor) undo() {
	for i := len(x.created) - 1; i >= 0; i-- {
		_ = x.root.Remove(x.created[i])
	}
}

// mkdirAll creates name and its parents inside the root (os.Root has no
// MkdirAll before Go 1.25).
func (x *extractor) mkdirAll(name string) error {
	if name == "." {
		return nil
	}
	if err := x.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	err := x.root.Mkdir(name, extractDirMode)
	if err == nil {
		x.created = append(x.created, name)
		return nil
	}
	if st, serr := x.root.Lstat(name); serr == nil && st.IsDir() && errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

func (x *extractor) file(f *zip.File) error {
	if err := x.mkdirAll(path.Dir(f.Name)); err != nil {
		return err
	}
	out, err := x.root.OpenFile(f.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, extractFileMode)
	if err != nil {
		return err
	}
	x.created = append(x.created, f.Name)
	werr := copyEntry(out, f)
	if cerr := out.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// copyEntry copies f's content to out, counted on both sides against the
// declared size.
func copyEntry(out io.Writer, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return integrity(f.Name, "cannot open entry", err)
	}
	defer rc.Close()
	size := int64(f.UncompressedSize64)
	src := &entryReader{rc: rc, name: f.Name, left: size}
	dst := &sizeWriter{w: out, name: f.Name, left: size}
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if dst.left != 0 {
		return integrity(f.Name, "content shorter than declared", nil)
	}
	return nil
}

// sizeWriter passes at most left bytes to w and fails beyond them.
type sizeWriter struct {
	w    io.Writer
	name string
	left int64
}

func (s *sizeWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > s.left {
		n, err := s.w.Write(p[:s.left])
		s.left -= int64(n)
		if err == nil {
			err = integrity(s.name, "content longer than declared", nil)
		}
		return n, err
	}
	n, err := s.w.Write(p)
	s.left -= int64(n)
	return n, err
}
