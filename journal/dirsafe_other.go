//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package journal

import "os"

// openSafeFlags: this system has no O_NOFOLLOW or O_NONBLOCK in the
// standard library; openEntry still refuses what is not a regular file.
const openSafeFlags = 0

// checkDir checks only that path is a directory: ownership and modes
// (ACLs on Windows) are not checked on this system.
func checkDir(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return &unsafeError{path: path, what: "is not a directory", fix: "give a directory for the journal"}
	}
	return nil
}
