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
// once the entry's record is flushed to disk with the log (on Windows,
// where a directory cannot be flushed, a power cut just after the log is
// created may lose it); those of a Postgres once the transaction committed
// (durable with PostgreSQL's default synchronous_commit = on).
//
// Except for the two durability classes that the Journal interface allows
// to be lazy (see visengine.Journal's Create): an intent (unfinished, no
// DraftID, no CloseSentAt) and a completed outcome. A Dir writes such a
// record to its log (write(2)) before the call returns, so a kill of the
// process keeps it, and lets it ride the next fsync (another call's, or
// Close's) instead of making one; the log being written in order, the
// sync of a submission's draft record makes its intent durable too. A
// Postgres commits a statement that carries only such records with
// synchronous_commit off for that transaction, crash-safe for the
// database (an OS crash or power cut may lose the last few hundred
// milliseconds of such commits, never corrupting anything); and it writes
// a completed outcome behind: Update returns at once, and a statement of
// the journal's own carries it 20 ms later with the others written behind
// meanwhile (or Close does), never one that a caller waits for. Until
// then the entry keeps its lease, so no replica takes it, and this
// process's reads write it first; if the process dies meanwhile, the
// entry reads unfinished with its close time once the lease ends, and
// Recover reads the richiesta back and completes it: one GET, nothing
// charged. Call [Postgres.Close] before the process exits. Every other
// record, the draft's id with the close's time and a failed or abandoned
// outcome above all, is durable before its call returns. So a Submit
// waits for one durable write, before the close that may charge.
//
// # Speed
//
// A Dir commits in groups, as PostgreSQL and SQLite in WAL mode do: the
// records that calls queue while a flush is in progress are written and
// synced together by the next one, so that concurrent submissions share
// their fsyncs (a Submit makes three journal writes: the intent, the
// draft's id with the close's time, the outcome with the lease's end; a
// successful one waits for the sync of the second only).
//
// A Postgres sends at most WithMaxConns statements at once (by default
// the *sql.DB's own SetMaxOpenConns, or DefaultMaxConns, 2, when it has
// none): calls beyond wait their turn, so a *sql.DB opened with sql.Open's
// defaults never takes more connections than the server allows nor opens
// one per statement. Submit's throughput needs no more: writes go one
// statement at a time whatever the pool (see below). More connections
// serve more reads at once (Recover on a large journal, many keyed
// replays); give the pool as many idle as open, and the journal as many:
//
//	db.SetMaxOpenConns(16)
//	db.SetMaxIdleConns(16) // database/sql keeps only 2 idle otherwise
//	j, err := journal.OpenPostgres(ctx, db) // takes 16 from the pool's limit
//
// Each statement is its own transaction. A Submit waits for two: the
// intent's INSERT and the UPDATE of the draft's id with the close's time;
// the completed outcome is written behind (see Guarantees). Writes go one
// statement at a time, since PostgreSQL spends less per entry on one
// grouped statement than on several racing for the same index pages:
// those that queue meanwhile are grouped as a Dir's are, the Creates in
// one INSERT, the Updates in one UPDATE … FROM (VALUES …) (a plain
// statement for one entry), up to 32 entries each, every call answered
// for its own row (a conflict, a lease lost); so many submissions in
// flight share their statements and commits. Reads use the other slots.
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
// each), and serves List, ListDrafts and Claim from there through indexes
// (by draft id, by digest, unfinished). A directory written by this
// version is not for older ones, which read entry files only.
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
//	journal.log               the log, mode 0600: one record per line, e.g.
//	                          1f2e3d4c {"v":1,"ref":"…","hash_visura":"…","digest":"…",
//	                          "created_at":"2025-03-01T09:00:00.123456Z",
//	                          "draft_id":"…","close_sent_at":"…","outcome":"completed",
//	                          "note":"…","updated_at":"…"}
//	<ref>.json                one entry, as versions before the log wrote them
//	                          (the JSON of a record, alone in its file)
//	.tmp-<random>             a write in progress; removed by OpenDir
//
// A record is the CRC-32C (Castagnoli) of its JSON in 8 lowercase hex
// digits, a space, the JSON, and "\n". In the JSON, empty fields are left
// out and "v" is the format's version, 1. The entries are the <ref>.json
// files overlaid with the log's records in order: the last record of a Ref
// is its entry. When the log holds more than twice as many records as
// there are entries (and a few thousand at least), the Dir writes a new
// one, a record per entry, and renames it over the old, then removes the
// <ref>.json files it now holds.
//
// After a kill, or a power cut, the log may end in records cut short or
// garbled, which no call was told were durable: OpenDir drops that tail
// and truncates the log. A bad record with good ones after it is damage,
// not a torn tail: OpenDir fails with a *CorruptEntryError naming the
// record.
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
// (Postgres.JournalNow), like the leases, so settle times hold between
// replicas whose clocks disagree.
//
// Claim picks rows with SELECT … FOR UPDATE SKIP LOCKED (unfinished, lease
// free or expired, oldest first) and sets their lease in the same
// statement; Update matches WHERE ref = $1 AND lease_owner = $2 AND
// lease_until > now(), and clears the lease when the new end is not after
// now. ListDrafts sends its ids as one text parameter and matches
// draft_id = ANY (string_to_array($1, ' ')), through the draft_id index. The SQL uses $n placeholders and PostgreSQL's
// syntax: any database/sql driver for PostgreSQL works (pgx's stdlib is
// the one tested); other databases are not supported. The database user
// needs CREATE on the schema the first time, and SELECT, INSERT and
// UPDATE on the table and SELECT on the secret's after that;
// [Postgres.CallbackDedupe]'s table, beside it, needs DELETE too.
package journal
