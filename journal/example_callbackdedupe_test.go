package journal_test

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"os"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
)

// Every replica serves the same callback handler over the same database:
// a delivery that reaches two of them calls the function once.
func ExamplePostgres_CallbackDedupe() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	j, err := journal.OpenPostgres(ctx, db)
	if err != nil {
		log.Fatal(err)
	}
	c, err := visengine.NewClient(os.Getenv("VISENGINE_TOKEN"), visengine.WithJournal(j))
	if err != nil {
		log.Fatal(err)
	}
	handler, err := visengine.CallbackHandler(func(ctx context.Context, ev *visengine.CallbackEvent) error {
		return nil // act on ev.Richiesta, as the API has it
	},
		visengine.WithCallbackSecret(os.Getenv("VISENGINE_CALLBACK_SECRET")),
		visengine.WithCallbackClient(c),
		visengine.WithCallbackDedupeStore(j.CallbackDedupe()))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/visengine/callback", handler)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
