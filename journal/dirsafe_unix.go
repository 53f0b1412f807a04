//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal

import (
	"fmt"
	"os"
	"syscall"
)

// openSafeFlags: no symlink followed at the last step, no wait for a
// FIFO's writer (regular files ignore O_NONBLOCK).
const openSafeFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// checkDir refuses a journal directory that someone else could change: not
// a directory, owned by another user, or writable by its group or others.
// path itself may be a symlink to the directory (the operator's own
// setting); the directory it leads to is what is checked.
func checkDir(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("visengine: journal: %w", err)
	}
	if !st.IsDir() {
		return &unsafeError{path: path, what: "is not a directory", fix: "give a directory for the journal"}
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return &unsafeError{path: path, what: fmt.Sprintf("is owned by uid %d, not by this user (uid %d)", sys.Uid, os.Getuid()),
			fix: "a journal must be yours alone: chown it to this user, or use another directory"}
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return &unsafeError{path: path, what: fmt.Sprintf("is writable by its group or others (mode %04o)", perm),
			fix: fmt.Sprintf("a journal must be yours alone: run 'chmod go-w %s' (0700 is best)", path)}
	}
	return nil
}
