//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package journal

import (
	"io"
	"os"
	"path/filepath"
	"sync"
)

// On this system the standard library offers no file lock, so a Dir is
// exclusive within this process only: two processes must not open the
// same directory.
var (
	openDirsMu sync.Mutex
	openDirs   = map[string]bool{}
)

type dirLock struct{ key string }

func (l dirLock) Close() error {
	openDirsMu.Lock()
	defer openDirsMu.Unlock()
	delete(openDirs, l.key)
	return nil
}

// lockDir refuses a second Dir on the same directory in this process.
func lockDir(dir string) (io.Closer, error) {
	key, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	openDirsMu.Lock()
	defer openDirsMu.Unlock()
	if openDirs[key] {
		return nil, errLocked
	}
	openDirs[key] = true
	return dirLock{key}, nil
}

// syncDir makes a rename in dir durable where the system can.
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
