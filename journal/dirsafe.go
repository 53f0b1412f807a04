package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A journal decides what is paid for: whoever can write its directory can
// make a submission look settled (and so be paid again) or forge one. Like
// ssh with ~/.ssh, OpenDir refuses a directory that is not the user's
// alone, and the files in it that are not what a journal writes (a symlink
// planted to another file, a FIFO that would block the open forever), each
// with an error that says how to fix it.

// ErrUnsafe is matched (errors.Is) by OpenDir's error when the directory,
// or a file in it, could be controlled by someone else or is not a regular
// file: the error says what to change.
var ErrUnsafe = errors.New("unsafe journal directory")

// unsafeError is one finding of the checks: where, what, and the fix.
type unsafeError struct {
	path, what, fix string
}

func (e *unsafeError) Error() string {
	return fmt.Sprintf("visengine: journal: %s %s: %s", e.path, e.what, e.fix)
}

func (e *unsafeError) Is(target error) bool { return target == ErrUnsafe }

// checkEntryType refuses a directory entry that a journal would not have
// written under that name: anything but a regular file.
func checkEntryType(dir string, de fs.DirEntry) error {
	t := de.Type()
	switch {
	case t.IsRegular():
		return nil
	case t&fs.ModeSymlink != 0:
		return &unsafeError{path: filepath.Join(dir, de.Name()), what: "is a symlink",
			fix: "a journal holds regular files only; remove the link (and check who planted it)"}
	}
	return notRegular(filepath.Join(dir, de.Name()))
}

func notRegular(path string) error {
	return &unsafeError{path: path, what: "is not a regular file (a folder, FIFO, device or socket)",
		fix: "a journal holds regular files only; move it away"}
}

// openEntry opens an entry file for reading without following a symlink
// and without blocking on a FIFO, and refuses anything but a regular file
// before a byte is read.
func openEntry(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openSafeFlags, 0)
	if err != nil {
		if isSymlinkErr(path, err) {
			return nil, &unsafeError{path: path, what: "is a symlink",
				fix: "a journal holds regular files only; remove the link (and check who planted it)"}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = notRegular(path)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// isSymlinkErr tells an open refused by O_NOFOLLOW (ELOOP, or EMLINK on
// some BSDs) from other failures by looking at the path again.
func isSymlinkErr(path string, err error) bool {
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	st, lerr := os.Lstat(path)
	return lerr == nil && st.Mode()&fs.ModeSymlink != 0
}
