package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
)

// SecretFile is the name of a directory journal's secret, beside its
// entries (see Dir.DigestSecret).
const SecretFile = "SECRET"

// secretLen is the size of a secret this package makes: 256 bits.
const secretLen = 32

// secretCache keeps a journal's secret once read: it never changes.
type secretCache struct {
	mu     sync.Mutex
	secret []byte
}

// get returns the cached secret, loading it with load the first time (a
// failed load is tried again on the next call).
func (c *secretCache) get(load func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secret == nil {
		s, err := load()
		if err != nil {
			return nil, err
		}
		c.secret = s
	}
	return append([]byte(nil), c.secret...), nil
}

// newSecret returns secretLen random bytes.
func newSecret() ([]byte, error) {
	s := make([]byte, secretLen)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("visengine: journal secret: %w", err)
	}
	return s, nil
}

// DigestSecret returns the secret the client keys its digests and
// idempotency keys with (see visengine.Journal.DigestSecret). It lives in the file
// SecretFile of the journal's directory, as 64 hex digits, readable by
// its owner only (mode 0600; a file that others may read is refused). It
// is made on first use if the file is missing; to set it yourself (the
// same secret as another journal, restored from a backup), write the file
// before the journal is first used. Back it up with the entries: if it is
// lost, a new one is made and the idempotency keys recorded before are
// forgotten (the same key would submit and pay again), and Recover can
// prove an entry's draft by its client reference only, not by its values.
func (d *Dir) DigestSecret(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.secret.get(func() ([]byte, error) { return loadSecretFile(d.path) })
}

// loadSecretFile reads the directory's secret, or makes it if the file is
// missing.
func loadSecretFile(dir string) ([]byte, error) {
	file := filepath.Join(dir, SecretFile)
	s, err := readSecretFile(file)
	if errors.Is(err, os.ErrNotExist) {
		if err = createSecretFile(dir, file); err == nil {
			s, err = readSecretFile(file)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("visengine: journal secret %s: %w", file, err)
	}
	return s, nil
}

// readSecretFile reads a secret file, refusing one that is not a regular
// file, that others may read, or that is not 64 to 256 hex digits.
func readSecretFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("mode %#o lets others read it: chmod 600", fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, err
	}
	return parseSecret(data)
}

// parseSecret reads a secret file's content: 64 to 256 hex digits, blank
// space around them allowed. Its error never quotes the content.
func parseSecret(data []byte) ([]byte, error) {
	s, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(s) < visengine.MinDigestSecret || len(s) > 128 {
		return nil, errors.New("not 64 to 256 hex digits")
	}
	return s, nil
}

// createSecretFile writes a new secret durably under the name file, only
// if no file has that name: a temporary file, fsync, a hard link (which
// fails if the name exists), fsync of the directory.
func createSecretFile(dir, file string) error {
	s, err := newSecret()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"secret-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = writeSync(tmp, []byte(hex.EncodeToString(s)+"\n"))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), file)
	}
	if errors.Is(err, os.ErrExist) {
		return nil // made meanwhile: read that one
	}
	if err == nil {
		err = syncDir(dir)
	}
	return err
}

// secretTable is the name of the table that holds a Postgres journal's
// secret: the journal's own name with "_secret" appended.
func (p *Postgres) secretTable() string { return quoteTable(p.name + "_secret") }

// DigestSecret returns the secret the client keys its digests and
// idempotency keys with (see visengine.Journal.DigestSecret). It lives in its own
// table, the journal's name with "_secret" appended (visengine_journal_secret
// by default), one row, so that roles which read the entries need not read
// it: grant it to the submitting replicas only. It is made on first use by
// whichever replica comes first, and every replica then reads the same
// row. To set it yourself, insert it before first use:
//
//	INSERT INTO visengine_journal_secret (id, secret) VALUES (1, decode('<64 hex digits>', 'hex'));
//
// Back it up with the journal: if the row is lost, a new secret is made,
// the idempotency keys recorded before are forgotten (the same key would
// submit and pay again), and Recover can prove an entry's draft by its
// client reference only, not by its values.
func (p *Postgres) DigestSecret(ctx context.Context) ([]byte, error) {
	return p.secret.get(func() ([]byte, error) {
		s, err := p.loadSecret(ctx)
		if err != nil {
			return nil, fmt.Errorf("visengine: journal table %s_secret: %w", p.name, err)
		}
		return s, nil
	})
}

// secretSQL creates the secret's table; %s is its quoted name.
const secretSQL = `CREATE TABLE IF NOT EXISTS %s (
	id         smallint    PRIMARY KEY CHECK (id = 1),
	secret     bytea       NOT NULL CHECK (length(secret) >= 32),
	created_at timestamptz NOT NULL DEFAULT now()
)`

// loadSecret creates the table if needed and the row if missing, under
// the advisory lock the journal's own migration takes, then reads it.
func (p *Postgres) loadSecret(ctx context.Context) ([]byte, error) {
	fresh, err := newSecret()
	if err != nil {
		return nil, err
	}
	var s []byte
	err = lockedTx(ctx, p.db, p.name, func(tx *sql.Tx) error {
		table := p.secretTable()
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(secretSQL, table)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fresh); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT secret FROM `+table+` WHERE id = 1`).Scan(&s); err != nil {
			return err
		}
		if len(s) < visengine.MinDigestSecret {
			return errors.New("the secret is shorter than 32 bytes")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// JournalNow returns the database's clock (see
// visengine.Journal.JournalNow), the one its leases and settle times run
// on.
func (p *Postgres) JournalNow(ctx context.Context) (time.Time, error) {
	var now time.Time
	if err := p.db.QueryRowContext(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
		return time.Time{}, p.fail("reading the clock", err)
	}
	return now, nil
}
