//go:build windows

package journal

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// errSharingViolation is ERROR_SHARING_VIOLATION: the file is open
// elsewhere with a share mode that excludes us.
const errSharingViolation = syscall.Errno(32)

// lockDir opens dir's lock file with no sharing allowed, which Windows
// enforces for every other open (in this process or another) until the
// handle is closed, also when the process dies.
func lockDir(dir string) (io.Closer, error) {
	path := filepath.Join(dir, lockName)
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if errors.Is(err, errSharingViolation) {
			return nil, errLocked
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// syncDir does nothing: Windows cannot flush a directory. NTFS journals
// the rename, but a power cut right after a write may lose that write.
func syncDir(string) error { return nil }
