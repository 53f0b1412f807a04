package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TokenStore keeps a TokenSource's token between runs, so that a restart
// reuses it instead of creating another. Implement it over a secret manager
// or a database to share one token among replicas; NewFileTokenStore keeps
// it in a file.
type TokenStore interface {
	// Load returns the stored token, or nil and no error when there is
	// none. An error, or a token that is expired, for another account,
	// service or scopes, makes the TokenSource ignore it and create a new
	// one.
	Load(ctx context.Context) (*SavedToken, error)
	// Save replaces the stored token. A failure is logged (with the
	// client's logger) and otherwise ignored: the token is still good in
	// memory.
	Save(ctx context.Context, t *SavedToken) error
}

// SavedToken is what a TokenStore keeps. Printing it (fmt, slog) never
// shows Token.
type SavedToken struct {
	Token      string    `json:"token"`
	Scopes     []string  `json:"scopes"`              // as the server granted them
	Requested  []string  `json:"requested,omitempty"` // as asked for: wildcards the server may have expanded
	ExpiresAt  time.Time `json:"expires_at"`
	ObtainedAt time.Time `json:"obtained_at"` // when it was created or last extended
	Service    string    `json:"service"`     // base URL of the OAuth service that issued it
	Account    string    `json:"account"`     // a fingerprint of the account's e-mail, not the e-mail
}

// String describes the saved token without its value.
func (t SavedToken) String() string {
	return fmt.Sprintf("oauth.SavedToken(%s, expires %s, scopes %s)",
		t.Service, t.ExpiresAt.UTC().Format(time.RFC3339), strings.Join(t.Scopes, " "))
}

// GoString is String, so %#v does not print the token either.
func (t SavedToken) GoString() string { return t.String() }

// Format prints String for every verb, so %+v cannot reach the token.
func (t SavedToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue logs String.
func (t SavedToken) LogValue() slog.Value { return slog.StringValue(t.String()) }

// ErrStoreCorrupt reports a stored token that cannot be read back: a
// truncated or foreign file. A TokenSource ignores it and creates a token.
var ErrStoreCorrupt = errors.New("oauth: stored token is corrupt")

// maxStoreFile caps what is read of a store file; a saved token is a few
// hundred bytes.
const maxStoreFile = 64 << 10

// fileFormat versions the file, so a later layout can tell an old one.
const fileFormat = 1

// FileTokenStore keeps the token in one file, readable by its owner only
// (mode 0600). Each save writes a temporary file in the same directory,
// syncs it and renames it over the old one, so a crash leaves either the
// old token or the new, never half of one.
type FileTokenStore struct{ path string }

// NewFileTokenStore returns a store in the file at path; the directory
// must exist. Nothing is read or written until the TokenSource needs it.
func NewFileTokenStore(path string) (*FileTokenStore, error) {
	if strings.TrimSpace(path) == "" {
		return nil, invalidArg("token file path", "is empty")
	}
	return &FileTokenStore{path: filepath.Clean(path)}, nil
}

// String names the file.
func (s *FileTokenStore) String() string {
	if s == nil {
		return "oauth.FileTokenStore(nil)"
	}
	return "oauth.FileTokenStore(" + s.path + ")"
}

// usable refuses a nil FileTokenStore, or one not made by
// NewFileTokenStore.
func (s *FileTokenStore) usable() error {
	if s == nil || s.path == "" {
		return invalidArg("token store", "is nil or not made by NewFileTokenStore")
	}
	return nil
}

type storeFile struct {
	Format int `json:"format"`
	SavedToken
}

// Load reads the file. A missing file is no token; anything unreadable is
// an error matching ErrStoreCorrupt. A file someone else could have written
// (a symlink, not a regular file, group- or world-writable, another user's)
// is refused with an error matching ErrStoreUnsafe, at once: a FIFO at the
// path does not block.
func (s *FileTokenStore) Load(ctx context.Context) (*SavedToken, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	f, err := openStoreFile(s.path)
	var unsafe *unsafeStore
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.As(err, &unsafe):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("oauth: reading token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStoreFile+1))
	if err != nil {
		return nil, fmt.Errorf("oauth: reading token file: %w", err)
	}
	var sf storeFile
	switch {
	case len(b) > maxStoreFile:
		return nil, fmt.Errorf("%w: file larger than %d bytes", ErrStoreCorrupt, maxStoreFile)
	case json.Unmarshal(b, &sf) != nil:
		return nil, fmt.Errorf("%w: not JSON", ErrStoreCorrupt)
	case sf.Format != fileFormat:
		return nil, fmt.Errorf("%w: format %d, want %d", ErrStoreCorrupt, sf.Format, fileFormat)
	case sf.Token == "" || sf.ExpiresAt.IsZero():
		return nil, fmt.Errorf("%w: token or expiry missing", ErrStoreCorrupt)
	}
	return &sf.SavedToken, nil
}

// Save writes t to a temporary file, syncs it, and renames it over the
// file; then it syncs the directory so the rename survives a crash.
func (s *FileTokenStore) Save(ctx context.Context, t *SavedToken) error {
	if err := s.usable(); err != nil {
		return err
	}
	if t == nil {
		return invalidArg("saved token", "is nil")
	}
	b, err := json.Marshal(storeFile{Format: fileFormat, SavedToken: *t})
	if err != nil {
		return fmt.Errorf("oauth: encoding token file: %w", err)
	}
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp makes the file 0600 before anything is written to it.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("oauth: writing token file: %w", err)
	}
	if err := writeSynced(tmp, b); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("oauth: writing token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("oauth: writing token file: %w", err)
	}
	syncDir(dir)
	return nil
}

func writeSynced(f *os.File, b []byte) error {
	_, err := f.Write(b)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename durable. Some systems cannot sync a directory;
// the rename then is as durable as they make it, which is all we can do.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
