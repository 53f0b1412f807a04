package journal_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
)

// A submission's steps as a directory journal records them, each before
// it is taken.
func ExampleOpenDir() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	j, err := journal.OpenDir(filepath.Join(dir, "journal"))
	if err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrJournalLocked): another process has it
	}
	defer j.Close()

	const hash = "2631ec9b62135de4186f509fea7d954b"
	values := visengine.Values{"$0": "Mario", "$1": "Rossi"}
	ref, err := visengine.NewJournalRef()
	if err != nil {
		log.Fatal(err)
	}
	e := visengine.JournalEntry{
		Ref: ref, HashVisura: hash, Digest: visengine.JournalDigest(hash, values, nil),
		CreatedAt: time.Now(), LeaseOwner: "replica-1", LeaseUntil: time.Now().Add(5 * time.Minute),
	}
	if err := j.Create(ctx, e); err != nil { // before POST /richiesta
		log.Fatal(err)
	}
	e.DraftID = "65f1c0ffee0123456789abcd" // the draft's _id, once known
	e.CloseSentAt = time.Now()             // before the closing PUT
	if err := j.Update(ctx, e); err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrLeaseLost): stop, another replica took over
	}
	e.Outcome, e.Note = visengine.JournalCompleted, "closed"
	if err := j.Update(ctx, e); err != nil {
		log.Fatal(err)
	}
	if err := j.Release(ctx, ref, "replica-1"); err != nil {
		log.Fatal(err)
	}

	found, err := j.List(ctx, visengine.JournalFilter{DraftID: "65f1c0ffee0123456789abcd"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(found), found[0].Outcome, found[0].Ref == ref)
	// Output: 1 completed true
}

// Replicas share a journal in PostgreSQL; each claims unfinished entries
// in turn, and a dead replica's entries come free when its lease ends.
func ExampleOpenPostgres() {
	ctx := context.Background()
	// sql.Open's defaults will do: the journal bounds its own statements
	// (WithMaxConns); see the package documentation for more throughput.
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	j, err := journal.OpenPostgres(ctx, db) // creates visengine_journal if missing
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close() // writes the completed outcomes still written behind
	owner, _ := os.Hostname()
	owner = fmt.Sprintf("%s/%d", owner, os.Getpid())
	entries, err := j.Claim(ctx, owner, time.Now().Add(2*time.Minute), 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println("to recover:", e)
		// Read the richiesta back; set e.Outcome only from what the server
		// shows, then j.Update(ctx, e), which fails with ErrLeaseLost if
		// the lease ran out meanwhile.
		if err := j.Release(ctx, e.Ref, owner); err != nil {
			log.Fatal(err)
		}
	}
}
