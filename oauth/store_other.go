//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package oauth

import "io/fs"

// storeOpenFlags: the standard library has no O_NOFOLLOW or O_NONBLOCK
// here; openStoreFile's Lstat and Stat checks still apply.
const storeOpenFlags = 0

// fileOwner is unknown on this system (Windows has ACLs instead).
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
