package audit_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/audit"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// Audit a month: the wallet's Visengine charges against the journal's
// completed submissions. Here on the fake, after one A2 filing.
func ExampleRun() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "journal")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	j, err := journal.OpenDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	c, err := visengine.NewClient(srv.Token, visengine.WithBaseURL(srv.URL), visengine.WithJournal(j))
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.GetVisura(ctx, hashA2)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Submit(ctx, v, a2(0)); err != nil {
		log.Fatal(err)
	}

	account, err := oauth.NewClient(srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	if err != nil {
		log.Fatal(err)
	}
	month := audit.Period{Since: time.Now().AddDate(0, -1, 0)}
	r, err := audit.Run(ctx, account, j, c, month)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("charges", r.Charges.Count, r.Charges.Total)
	fmt.Println("submissions", r.Submissions.Count, r.Submissions.Total)
	fmt.Println("clean", r.Clean())
	// Output:
	// charges 1 €20.00
	// submissions 1 €20.00
	// clean true
}
