//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package oauth

import (
	"io/fs"
	"syscall"
)

// storeOpenFlags: no symlink followed at the last step, no wait for a
// FIFO's writer (regular files ignore O_NONBLOCK).
const storeOpenFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// fileOwner is the uid that owns the file.
func fileOwner(st fs.FileInfo) (int, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(sys.Uid), true
}
