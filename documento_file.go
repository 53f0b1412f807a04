package visengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// downloadToFile writes the document to a temporary file next to path and
// renames it to path once the download succeeded.
func (c *Client) downloadToFile(ctx context.Context, id, path string, opts []DownloadOption) (*DocumentoInfo, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".visengine-*.part")
	if err != nil {
		return nil, fileError("create", path, err)
	}
	info, err := c.DownloadDocumento(ctx, id, &pathWriter{w: tmp, path: path}, opts...)
	var partial *PartialDownloadError
	if errors.As(err, &partial) {
		err = partial.Err // the bytes to discard are in tmp, removed below
	}
	if err == nil {
		err = fileError("sync", path, tmp.Sync())
	}
	if cerr := tmp.Close(); err == nil {
		err = fileError("close", path, cerr)
	}
	if err == nil {
		err = fileError("save", path, os.Rename(tmp.Name(), path))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return nil, err
	}
	return info, nil
}

// fileError reports a file-system failure as an *fs.PathError naming path,
// the caller's name for the document: the temporary file's name would only
// confuse. It keeps the cause (syscall.ENOSPC, fs.ErrPermission…) for
// errors.Is. A nil err gives nil.
func fileError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("visengine: %w", &fs.PathError{Op: op, Path: path, Err: fileCause(err)})
}

// fileCause strips the os package's wrapper, which names the file the
// failing call was given.
func fileCause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	case errors.As(err, &se):
		return se.Err
	}
	return err
}

// pathWriter writes the document to the temporary file and reports a write
// failure under path. Its errors carry no "visengine: " prefix: the
// download that wraps them adds one.
type pathWriter struct {
	w    io.Writer
	path string
}

func (p *pathWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if err != nil {
		err = &fs.PathError{Op: "write", Path: p.path, Err: fileCause(err)}
	}
	return n, err
}

// mkdirParents creates dir and whichever of its parents are missing, with
// mode 0700, and returns the folders it created, outermost first.
func mkdirParents(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o700)
		switch {
		case errors.Is(err, fs.ErrExist): // made meanwhile by someone else: not ours to remove
		case err != nil:
			removeDirs(created)
			return nil, err
		default:
			created = append(created, missing[i])
		}
	}
	return created, nil
}

// removeDirs removes the folders mkdirParents created, innermost first, as
// long as they are empty: something another process put there stays.
func removeDirs(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = os.Remove(created[i])
	}
}
