package oauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Whoever can write the token file chooses the token, and so the account
// the applicants' data go to; a symlink lets them point it anywhere, and a
// FIFO at its path would hold every Token call. Like ssh with its keys,
// Load refuses such a file (ErrStoreUnsafe, saying how to fix it) and opens
// nothing that could block. The TokenSource then logs the refusal and
// creates a token, which Save writes as a new 0600 file in its place
// (rename replaces a symlink or a FIFO, it does not follow it).

// ErrStoreUnsafe reports a token file that someone else could have
// written: a symlink, not a regular file, writable by its group or others,
// or owned by another user. A TokenSource ignores it (logging the error)
// and saves a new token in its place.
var ErrStoreUnsafe = errors.New("oauth: token file unsafe")

// unsafeStore is one finding: the file, what is wrong, the fix.
type unsafeStore struct{ path, what, fix string }

func (e *unsafeStore) Error() string {
	return fmt.Sprintf("oauth: token file %s %s: %s", e.path, e.what, e.fix)
}

func (e *unsafeStore) Is(target error) bool { return target == ErrStoreUnsafe }

// openStoreFile opens the token file for reading without following a
// symlink and without waiting on a FIFO, and checks what it opened before
// a byte is read. A missing file is returned as fs.ErrNotExist.
func openStoreFile(path string) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, &unsafeStore{path: path, what: "is a symlink",
			fix: "remove it (and check who made it); the next token is saved as a regular file"}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|storeOpenFlags, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = checkStoreFile(path, st)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// checkStoreFile refuses what ssh refuses for a private key.
func checkStoreFile(path string, st fs.FileInfo) error {
	switch {
	case st.Mode()&fs.ModeSymlink != 0: // raced in after the Lstat
		return &unsafeStore{path: path, what: "is a symlink",
			fix: "remove it (and check who made it); the next token is saved as a regular file"}
	case !st.Mode().IsRegular():
		return &unsafeStore{path: path, what: "is not a regular file (a folder, FIFO, device or socket)",
			fix: "move it away; the next token is saved as a regular file"}
	case st.Mode().Perm()&0o022 != 0:
		return &unsafeStore{path: path, what: fmt.Sprintf("is writable by its group or others (mode %04o)", st.Mode().Perm()),
			fix: fmt.Sprintf("run 'chmod 600 %s' (and check who changed it), or remove it", path)}
	}
	if uid, ok := fileOwner(st); ok && uid != os.Getuid() {
		return &unsafeStore{path: path, what: fmt.Sprintf("is owned by uid %d, not by this user (uid %d)", uid, os.Getuid()),
			fix: "remove it, or chown it to this user"}
	}
	return nil
}
