package main

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStateHome(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("none") }
	for _, c := range []struct {
		goos string
		env  map[string]string
		home func() (string, error)
		want string
	}{
		{"linux", nil, home, filepath.Join("/home/u", ".local", "state")},
		{"linux", map[string]string{"XDG_STATE_HOME": "/srv/state"}, home, "/srv/state"},
		{"linux", map[string]string{"XDG_STATE_HOME": "relative"}, home, filepath.Join("/home/u", ".local", "state")},
		{"freebsd", nil, home, filepath.Join("/home/u", ".local", "state")},
		{"darwin", nil, home, filepath.Join("/home/u", "Library", "Application Support")},
		{"windows", map[string]string{"LocalAppData": `C:\Users\u\AppData\Local`}, noHome, `C:\Users\u\AppData\Local`},
	} {
		got, err := stateHome(c.goos, env(c.env), c.home)
		assert.NoError(t, err, c.goos)
		assert.Equal(t, c.want, got, c.goos)
	}
	_, err := stateHome("linux", env(nil), noHome)
	assert.ErrorContains(t, err, "VISENGINE_JOURNAL")
	_, err = stateHome("windows", env(nil), home)
	assert.ErrorContains(t, err, "VISENGINE_JOURNAL")
}

func TestJournalDir(t *testing.T) {
	t.Setenv("VISENGINE_JOURNAL", "")
	t.Setenv("XDG_STATE_HOME", "/x/state")
	d, err := journalDir()
	assert.NoError(t, err)
	assert.Equal(t, filepath.Join("/x/state", "visengine", "journal"), d)
	t.Setenv("VISENGINE_JOURNAL", "/y/j")
	d, err = journalDir()
	assert.NoError(t, err)
	assert.Equal(t, "/y/j", d)
}
