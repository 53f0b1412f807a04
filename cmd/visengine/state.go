package main

import (
	"os"
	"path/filepath"
	"runtime"
)

// envJournal overrides where submit, resume and recover keep the journal.
const envJournal = "VISENGINE_JOURNAL"

// journalDir is the folder of the submission journal: VISENGINE_JOURNAL
// if set, else "visengine/journal" in the user's state folder:
// $XDG_STATE_HOME (absolute, as the XDG spec requires), else
// ~/.local/state on Linux and the BSDs, ~/Library/Application Support on
// macOS, %LocalAppData% on Windows. The journal holds no personal data,
// only digests and ids, but it is the record of what was paid.
func journalDir() (string, error) {
	if d := os.Getenv(envJournal); d != "" {
		return d, nil
	}
	base, err := stateHome(runtime.GOOS, os.Getenv, os.UserHomeDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "visengine", "journal"), nil
}

// stateHome is the user's state folder on goos.
func stateHome(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	if goos == "windows" {
		if d := getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", msgErr("noLocalAppData", envJournal)
	}
	h, err := home()
	if err != nil || h == "" {
		return "", msgErr("noHome", envJournal)
	}
	if goos == "darwin" || goos == "ios" {
		return filepath.Join(h, "Library", "Application Support"), nil
	}
	return filepath.Join(h, ".local", "state"), nil
}
