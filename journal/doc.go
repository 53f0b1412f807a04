// Package journal holds the two implementations of visengine.Journal, the
// durable record through which a submission survives a crash, a lost
// answer or a replica's death without being paid for twice:
//
//   - [Dir], the embedded default: a directory on the local disk, for one
//     process. Open it with [OpenDir].
//   - [Postgres], a PostgreSQL table reached through database/sql, shared
//     by several replicas. Open it with [OpenPostgres].
//
// Both store the same entries (visengine.JournalEntry: a client reference,
// the service hash, a digest of the values, the draft's id, when the close
// was sent, the outcome and a note). Both keep times in UTC to the
// microsecond, list entries oldest first, and refuse, with a
// *CorruptEntryError, to serve an entry they cannot read back rather than
// skip it.
//
// # What a journal holds, and its secret
//
// No value an applicant gave is stored, but the entries are about
// applicants, so treat them as records about people. Each entry tells
// which service was bought, when, with which richiesta, and whether it
// was paid; its digest stands for the values and options, and an
// idempotency key (visengine.WithIdempotencyKey, which may be a codice
// fiscale) is present only as the entry's Ref. Both are HMACs keyed with
// the journal's secret (visengine.KeyedJournalDigest,
// visengine.IdempotencyRef), so that whoever reads the entries but not
// the secret cannot confirm a guess of an applicant's data or key: an
// unkeyed digest of a name, a birthplace and a few guessed values (birth
// date, sex) is confirmed in well under a second. Entries written before
// keyed digests hold visengine.JournalDigest, unkeyed; they are still
// read and matched.
//
// The secret is 32 random bytes, made on first use (the first Submit) and
// kept apart from the entries: for a Dir, the file SECRET in its directory
// (mode 0600, 64 hex digits; one that others may read is refused); for a
// Postgres, the one-row table visengine_journal_secret (the journal's
// table name with "_secret"), which roles that only read the entries need
// not be granted. Every client and replica sharing the journal reads the
// same one: no setup. To choose it (to move a journal, or restore one),
// write the file or insert the row before first use (see
// [Dir.DigestSecret], [Postgres.DigestSecret]). Back it up with the
// journal and never delete it: a journal that lost it makes a new one,
// and then forgets every idempotency key recorded before (the same key
// would submit, and pay, again) and proves an old entry's draft by its
// client reference only, so Recover may report such drafts unknown
// instead of closing them.
//
// # Guarantees
//
// A call that returned nil is durable: Create and Update of a Dir return
// once the entry's file and the directory are flushed to disk (on
// Windows, where a directory cannot be flushed, a power cut just after a
// write may lose it); those of a Postgres once the transaction committed
// (durable with PostgreSQL's default synchronous_commit = on).
//
// Leases make one worker at a time act on an entry: Update succeeds only
// while the caller holds an unexpired lease, and Claim hands each free
// entry to one claimer. A Dir keeps leases in memory, since only its
// process can have the directory open: after a restart every entry is
// free at once. A Postgres keeps them in the table, checked against the
// database's clock, so that a replica that dies holds its entries until
// the lease ends, and replicas with skewed clocks agree on who holds what.
//
// # Limits
//
// A Dir is for one process: OpenDir takes an OS lock on the directory
// (flock on Linux, macOS and the BSDs; a handle opened without sharing on
// Windows) and fails with visengine.ErrJournalLocked while another Dir,
// in this process or another, holds it. Elsewhere (Solaris, AIX, Plan 9,
// WebAssembly) the lock works within the process only, and two processes
// must not open the same directory. The directory must be on a local
// file system: network file systems do not all honour flock or fsync. A
// Dir reads every entry into memory when opened (a few hundred bytes
// each), and serves List and Claim from there.
//
// Neither implementation deletes entries: finished ones are kept as the
// record of what was paid, until removed by hand (a file, or a row, whose
// Outcome is set).
//
// # The directory
//
// A Dir is a directory (mode 0700) holding:
//
//	LOCK                      the lock file, empty
//	SECRET                    the digests' secret, 64 hex digits, mode 0600
//	<ref>.json                one entry, mode 0600, e.g.
//	                          {"v":1,"ref":"…","hash_visura":"…","digest":"…",
//	                           "created_at":"2025-03-01T09:00:00.123456Z",
//	                           "draft_id":"…","close_sent_at":"…","outcome":"completed",
//	                           "note":"…","updated_at":"…"}
//	.tmp-<ref>-<random>       a write in progress; removed by OpenDir
//
// Empty fields are left out; "v" is the format's version, 1.
//
// # The table
//
// OpenPostgres creates the table (visengine_journal unless [WithTable]
// names another) and its indexes if they do not exist, under an advisory
// lock so that replicas starting together do not collide:
//
//	CREATE TABLE IF NOT EXISTS visengine_journal (
//		ref           text        PRIMARY KEY,         -- JournalEntry.Ref
//		hash_visura   text        NOT NULL,
//		digest        text        NOT NULL,            -- visengine.KeyedJournalDigest
//		created_at    timestamptz NOT NULL,            -- the intent, on the database's clock
//		draft_id      text        NOT NULL DEFAULT '', -- '' until known
//		close_sent_at timestamptz,                     -- NULL: no close sent
//		outcome       text        NOT NULL DEFAULT '', -- '', completed, abandoned, failed
//		note          text        NOT NULL DEFAULT '',
//		updated_at    timestamptz NOT NULL,            -- the database's now() at the last write
//		lease_owner   text        NOT NULL DEFAULT '', -- '' when free
//		lease_until   timestamptz                      -- by the database's clock
//	);
//	CREATE INDEX IF NOT EXISTS visengine_journal_unfinished
//		ON visengine_journal (created_at, ref) WHERE outcome = '';
//	CREATE INDEX IF NOT EXISTS visengine_journal_draft_id
//		ON visengine_journal (draft_id) WHERE draft_id <> '';
//	CREATE INDEX IF NOT EXISTS visengine_journal_digest
//		ON visengine_journal (hash_visura, digest);
//
// and, on first use of the secret, its table:
//
//	CREATE TABLE IF NOT EXISTS visengine_journal_secret (
//		id         smallint    PRIMARY KEY CHECK (id = 1),
//		secret     bytea       NOT NULL CHECK (length(secret) >= 32),
//		created_at timestamptz NOT NULL DEFAULT now()
//	);
//
// An idempotency key's uniqueness is the primary key on ref: its Ref is
// an HMAC of the key, so of two replicas submitting one key at once, one
// INSERT wins and the other waits for its result. Times the client
// records (created_at, close_sent_at) are on the database's clock
// (Postgres is a visengine.JournalClock), like the leases, so settle times
// hold between replicas whose clocks disagree.
//
// Claim picks rows with SELECT … FOR UPDATE SKIP LOCKED (unfinished, lease
// free or expired, oldest first) and sets their lease in the same
// statement; Update matches WHERE ref = $1 AND lease_owner = $2 AND
// lease_until > now(). The SQL uses $n placeholders and PostgreSQL's
// syntax: any database/sql driver for PostgreSQL works (pgx's stdlib is
// the one tested); other databases are not supported. The database user
// needs CREATE on the schema the first time, and SELECT, INSERT and
// UPDATE on the table, and SELECT on the secret's, after that.
package journal
