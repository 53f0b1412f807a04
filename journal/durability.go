package journal

import "github.com/visengine-go/visengine"

// needsSync reports whether the record of e must be durable before the
// Create or Update that writes it returns (the journal's durability
// classes; see the package documentation). Two kinds of record need not:
//
//   - an intent (unfinished, no DraftID, no CloseSentAt): if a power cut
//     loses it, at most a free draft is left open, which nobody closes
//     since no entry names it; and the sync of the draft's record, the
//     next write of a Submit, makes it durable anyway, the log being
//     written in order;
//   - a completed outcome: if it is lost, the entry reads unfinished with
//     its close time, and Recover or a keyed replay reads the richiesta
//     back, finds it closed and completes the entry: nothing is charged
//     twice.
//
// A Postgres goes further with a completed outcome that ends the lease:
// it writes it behind (pgbehind.go), since the lease it keeps until then
// stops any other process from acting on the entry.
//
// Every other record is synced: above all the draft's id with the close's
// time (the close may charge), and a failed or abandoned outcome (the
// caller is told nothing was charged; a lost one would let Recover close
// the draft behind it).
func needsSync(e visengine.JournalEntry) bool {
	switch e.Outcome {
	case "":
		return e.DraftID != "" || !e.CloseSentAt.IsZero()
	case visengine.JournalCompleted:
		return false
	}
	return true
}
