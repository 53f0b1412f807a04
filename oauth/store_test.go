package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

func newFileStore(t *testing.T) (*FileTokenStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token.json")
	s, err := NewFileTokenStore(path)
	require.NoError(t, err)
	return s, path
}

// The file is written 0600, and a restart reuses the token it holds.
func TestFileStoreReusedAfterRestart(t *testing.T) {
	f := newFake(t)
	store, path := newFileStore(t)
	ts := newSource(t, f, false, WithStore(store))
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	restarted := newSource(t, f, false, WithStore(store))
	again, err := restarted.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok.Value, again.Value)
	assert.Equal(t, tok.Expiry.Unix(), again.Expiry.Unix())
	assert.Equal(t, 1, f.count(createKey(false)), "the restart made no token")
	assert.Equal(t, 1, f.total())
}

// A token asked for with a wildcard comes back expanded; the restart
// still recognizes it as what was asked for.
func TestFileStoreReusesExpandedWildcard(t *testing.T) {
	f := newFake(t)
	store, _ := newFileStore(t)
	wild := WithScopes("*:visengine2.altravia.com/*")
	tok, err := newSource(t, f, true, WithStore(store), wild).Token(context.Background())
	require.NoError(t, err)
	assert.Contains(t, tok.Scopes, "DELETE:visengine2.altravia.com/richiesta", "expanded by the server")
	again, err := newSource(t, f, true, WithStore(store), wild).Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok.Value, again.Value)
	assert.Equal(t, 1, f.count(createKey(true)))
	// Asking for something else is not satisfied by it.
	other, err := newSource(t, f, true, WithStore(store), WithScopes("*:*.altravia.com/*")).Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, tok.Value, other.Value)
}

// A save replaces a looser file with a 0600 one.
func TestFileStoreTightensMode(t *testing.T) {
	store, path := newFileStore(t)
	require.NoError(t, os.WriteFile(path, []byte("{}"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, store.Save(context.Background(), &SavedToken{Token: canaryToken, ExpiresAt: time.Now().Add(time.Hour)}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	got, err := store.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, canaryToken, got.Token)
}

func TestFileStoreLoad(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		corrupt bool
	}{
		{"not JSON", []byte("\x00\x01garbage"), true},
		{"truncated", []byte(`{"format":1,"token":"abc","expires_at":"2026-`), true},
		{"empty", nil, true},
		{"other format", []byte(`{"format":2,"token":"abc","expires_at":"2026-03-01T10:00:00Z"}`), true},
		{"no token", []byte(`{"format":1,"expires_at":"2026-03-01T10:00:00Z"}`), true},
		{"no expiry", []byte(`{"format":1,"token":"abc"}`), true},
		{"bad time", []byte(`{"format":1,"token":"abc","expires_at":"soon"}`), true},
		{"too large", append([]byte(`{"format":1,"token":"`), bytes.Repeat([]byte("a"), maxStoreFile)...), true},
		{"good", []byte(`{"format":1,"token":"abc","expires_at":"2026-03-01T10:00:00Z","scopes":["GET:a/b"]}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, path := newFileStore(t)
			require.NoError(t, os.WriteFile(path, tt.content, 0o600))
			got, err := store.Load(context.Background())
			if tt.corrupt {
				assert.ErrorIs(t, err, ErrStoreCorrupt)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "abc", got.Token)
			assert.Equal(t, []string{"GET:a/b"}, got.Scopes)
		})
	}
	store, _ := newFileStore(t)
	got, err := store.Load(context.Background())
	assert.NoError(t, err, "a missing file is no token")
	assert.Nil(t, got)

	_, err = NewFileTokenStore(" ")
	assert.ErrorIs(t, err, visengine.ErrInvalidArgument)
	assert.ErrorIs(t, store.Save(context.Background(), nil), visengine.ErrInvalidArgument)
	bad, err := NewFileTokenStore(filepath.Join(t.TempDir(), "missing-dir", "token.json"))
	require.NoError(t, err)
	assert.Error(t, bad.Save(context.Background(), &SavedToken{Token: "x"}))
}

// A stored token that cannot serve is ignored and replaced, never a panic
// or a failed call.
func TestTokenSourceIgnoresUnusableStoredToken(t *testing.T) {
	f := newFake(t)
	c := f.client(t, false)
	good := func() SavedToken {
		return SavedToken{
			Token: f.Issue(VisengineScopes(false), time.Hour), Scopes: VisengineScopes(false),
			ExpiresAt: f.clock.Now().Add(time.Hour), ObtainedAt: f.clock.Now(), Service: c.BaseURL(), Account: c.account,
		}
	}
	tests := []struct {
		name   string
		mutate func(s *SavedToken) []byte
		reused bool
	}{
		{"usable", func(s *SavedToken) []byte { return storeJSON(s) }, true},
		{"corrupt", func(*SavedToken) []byte { return []byte("{{{") }, false},
		{"expired", func(s *SavedToken) []byte { s.ExpiresAt = f.clock.Now().Add(-time.Minute); return storeJSON(s) }, false},
		{"another account", func(s *SavedToken) []byte { s.Account = "0123456789abcdef"; return storeJSON(s) }, false},
		{"another service", func(s *SavedToken) []byte { s.Service = SandboxURL; return storeJSON(s) }, false},
		{"fewer scopes", func(s *SavedToken) []byte { s.Scopes = VisengineReadOnlyScopes(false); return storeJSON(s) }, false},
		{"wildcard scopes", func(s *SavedToken) []byte { s.Scopes = []string{"*:visengine2.altravia.com/*"}; return storeJSON(s) }, true},
		{"within margin", func(s *SavedToken) []byte {
			s.ExpiresAt = f.clock.Now().Add(5 * time.Minute)
			s.ObtainedAt = f.clock.Now().Add(-55 * time.Minute)
			return storeJSON(s)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, path := newFileStore(t)
			saved := good()
			require.NoError(t, os.WriteFile(path, tt.mutate(&saved), 0o600))
			var logs bytes.Buffer
			lc := f.client(t, false, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			ts, err := NewTokenSource(lc, WithClock(f.clock.Now), WithStore(store), WithTTL(time.Hour), WithRenewBefore(10*time.Minute))
			require.NoError(t, err)
			before := f.count(createKey(false))
			tok, err := ts.Token(context.Background())
			require.NoError(t, err)
			_, ok := f.Lookup(tok.Value)
			assert.True(t, ok)
			assert.Equal(t, tt.reused, tok.Value == saved.Token)
			if tt.name == "within margin" {
				assert.Equal(t, 1, f.count(renewKey(false)), "extended on load")
				assert.Equal(t, f.clock.Now().Add(time.Hour), tok.Expiry)
			}
			if tt.reused {
				assert.Equal(t, before, f.count(createKey(false)))
			} else {
				assert.Equal(t, before+1, f.count(createKey(false)))
				assert.Contains(t, logs.String(), "stored token ignored")
				reloaded, err := store.Load(context.Background())
				require.NoError(t, err, "the new token was saved over the unusable one")
				assert.Equal(t, tok.Value, reloaded.Token)
			}
			assert.NotContains(t, logs.String(), saved.Token)
			assert.NotContains(t, logs.String(), tok.Value)
		})
	}
}

func storeJSON(s *SavedToken) []byte {
	b, err := json.Marshal(storeFile{Format: fileFormat, SavedToken: *s})
	if err != nil {
		panic(err)
	}
	return b
}

// failingStore fails every call.
type failingStore struct{}

func (failingStore) Load(context.Context) (*SavedToken, error) {
	return nil, fmt.Errorf("vault sealed for %s", canaryToken)
}
func (failingStore) Save(context.Context, *SavedToken) error { return fmt.Errorf("read-only") }

// A store that fails costs a new token after a restart, not a failed call.
func TestTokenSourceStoreFailures(t *testing.T) {
	f := newFake(t)
	var logs bytes.Buffer
	c := f.client(t, false, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	ts, err := NewTokenSource(c, WithClock(f.clock.Now), WithStore(failingStore{}))
	require.NoError(t, err)
	_, err = ts.Token(context.Background())
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "stored token ignored")
	assert.Contains(t, logs.String(), "saving token failed")
	assert.NotContains(t, logs.String(), canaryToken)
}

func TestSavedTokenNeverPrintsToken(t *testing.T) {
	s := SavedToken{Token: canaryToken, Scopes: []string{"GET:a/b"}, ExpiresAt: time.Now(), Service: ProductionURL, Account: "x"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(format, s), canaryToken)
		assert.NotContains(t, fmt.Sprintf(format, &s), canaryToken)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "saved", s, "ptr", &s)
	assert.NotContains(t, buf.String(), canaryToken)
	assert.Contains(t, buf.String(), "GET:a/b")
}
