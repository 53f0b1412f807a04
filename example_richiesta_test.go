package visengine_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

const a2Hash = "2631ec9b62135de4186f509fea7d954b"

// applicant fills the A2 form with test data (the codice fiscale is the
// textbook Mario Rossi, not a real person's).
func applicant(v *visengine.Visura) visengine.Values {
	values := visengine.Values{}
	for name, value := range map[string]string{
		"Nome": "Mario", "Cognome": "Rossi", "Email": "mario.rossi@example.com",
		"CELLULARE": "+39 333 000 0000", "CODICE FISCALE": "RSSMRA80A01H501U",
	} {
		if err := values.SetField(v, name, value); err != nil {
			log.Fatal(err)
		}
	}
	values.Set("$5", visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.4 test")))
	values.Set("$6", visengine.FileValue("codice-fiscale.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff}))
	return values
}

func ExampleClient_Submit() {
	srv := visenginetest.NewServer() // a fake Visengine; use visengine.NewClient for the real one
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	v, err := c.GetVisura(ctx, a2Hash)
	if err != nil {
		log.Fatal(err)
	}
	// Validated locally first: an incomplete applicant costs nothing.
	incomplete := applicant(v)
	delete(incomplete, "$3")
	_, err = c.Submit(ctx, v, incomplete)
	fmt.Println(errors.Is(err, visengine.ErrInvalidFields), err)

	r, err := c.Submit(ctx, v, applicant(v), visengine.WithOpzioni("urgenza"))
	if err != nil {
		log.Fatal(err)
	}
	count, total := srv.Charges()
	fmt.Println(r.State == visengine.StateSubmitted, r.StatoRichiesta, count, total)
	// Output:
	// true visengine: invalid fields: missing "CELLULARE" ($3)
	// true In erogazione 1 €24.00
}

func ExampleClient_Wait() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	v, err := c.GetVisura(ctx, a2Hash)
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Submit(ctx, v, applicant(v))
	if err != nil {
		log.Fatal(err)
	}
	// Real services take hours: the default polling starts at 15s and
	// backs off to 10m. The fake is fast, so poll every few milliseconds;
	// and it moves a richiesta on only when told (Advance), which here is
	// done as soon as Wait has seen it at work, whatever the machine's load.
	r, err = c.Wait(ctx, r.ID,
		visengine.WithPollInterval(5*time.Millisecond, 10*time.Millisecond),
		visengine.WithOnChange(func(r *visengine.Richiesta) {
			fmt.Println("now:", r.StatoRichiesta)
			if r.StatoRichiesta == visengine.StatoInErogazione {
				_, _ = srv.Advance(r.ID)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready:", r.DocumentReady(), len(r.Allegati), "file")
	// Output:
	// now: In erogazione
	// now: Dati disponibili
	// ready: true 1 file
}

// An answer lost on the way back: the fake creates the draft, then drops
// the connection before answering, as a gateway timing out would. Submit
// cannot know whether the draft exists and says so rather than guess;
// Reconcile finds it among the account's richieste by its values, and
// closing that draft pays once.
func ExampleClient_Reconcile() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	v, err := c.GetVisura(ctx, a2Hash)
	if err != nil {
		log.Fatal(err)
	}
	values := applicant(v)

	srv.Fault(http.MethodPost, "/richiesta", visenginetest.Fault{Drop: visenginetest.DropAfterApply})
	_, err = c.Submit(ctx, v, values)
	var unknown *visengine.OutcomeUnknownError
	if !errors.As(err, &unknown) {
		log.Fatal(err)
	}
	fmt.Println("outcome unknown:", unknown.Method, unknown.Path)

	// Never submit again blindly: look for what the lost request created.
	r, err := c.Reconcile(ctx, v.HashVisura, values, unknown.SentAt)
	if err != nil {
		// ErrNotFound: conclusively not created; submitting again is safe.
		// ErrOutcomeUnknown: not visible yet, or not verifiable; ask again later.
		log.Fatal(err)
	}
	fmt.Println("found:", r.State)
	r, err = c.CloseRichiesta(ctx, r.ID)
	if err != nil {
		log.Fatal(err)
	}
	count, total := srv.Charges()
	fmt.Println("closed:", r.State, r.StatoRichiesta, "- charges:", count, total)
	// Output:
	// outcome unknown: POST /richiesta
	// found: draft
	// closed: submitted In erogazione - charges: 1 €20.00
}
