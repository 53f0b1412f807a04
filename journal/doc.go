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
// was sent, the outcome and a note) and neither stores personal data: the
// values are represented by their digest only. Both keep times in UTC to
// the microsecond, list entries oldest first, and refuse, with a
// *CorruptEntryError, to serve an entry they cannot read back rather than
// skip it.
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
//		digest        text        NOT NULL,            -- visengine.JournalDigest
//		created_at    timestamptz NOT NULL,            -- the intent, by the caller's clock
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
// Claim picks rows with SELECT … FOR UPDATE SKIP LOCKED (unfinished, lease
// free or expired, oldest first) and sets their lease in the same
// statement; Update matches WHERE ref = $1 AND lease_owner = $2 AND
// lease_until > now(). The SQL uses $n placeholders and PostgreSQL's
// syntax: any database/sql driver for PostgreSQL works (pgx's stdlib is
// the one tested); other databases are not supported. The database user
// needs CREATE on the schema the first time, and SELECT, INSERT and
// UPDATE on the table after that; [Postgres.CallbackDedupe]'s table, beside
// it, needs DELETE too.
package journal
