//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive flock on the directory itself and on its lock
// file, held until the returned closer is closed. The kernel drops them
// when the process dies, so a crash leaves no stale lock. A second open,
// in this process or another, is refused.
//
// The directory's own lock is what keeps a second process out: a lock
// file can be unlinked (by hand, by a cleaner) while held, and the next
// process would then lock a new file of the same name and get in; a
// directory with entries in it cannot be replaced that way. The lock file
// is kept, and locked too, for the versions that lock only it.
func lockDir(dir string) (io.Closer, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := flock(d); err != nil {
		_ = d.Close()
		return nil, err
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openSafeFlags, 0o600)
	if err != nil {
		_ = d.Close()
		if isSymlinkErr(path, err) {
			return nil, &unsafeError{path: path, what: "is a symlink",
				fix: "a journal holds regular files only; remove the link (and check who planted it)"}
		}
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		_, _ = f.Close(), d.Close()
		if err == nil {
			err = notRegular(path)
		}
		return nil, err
	}
	if err := flock(f); err != nil {
		_, _ = f.Close(), d.Close()
		return nil, err
	}
	return dirLock{dir: d, file: f}, nil
}

// dirLock holds both locks of lockDir.
type dirLock struct{ dir, file *os.File }

func (l dirLock) Close() error {
	err := l.file.Close()
	if derr := l.dir.Close(); err == nil {
		err = derr
	}
	return err
}

// flock takes an exclusive lock on f without waiting.
func flock(f *os.File) error {
	var err error
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return errLocked
	}
	return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
