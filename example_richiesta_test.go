package visengine_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
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
	srv := visenginetest.NewServer(visenginetest.WithAutoAdvance(20 * time.Millisecond))
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
	// backs off to 10m. The fake is fast, so poll every few milliseconds.
	r, err = c.Wait(ctx, r.ID,
		visengine.WithPollInterval(5*time.Millisecond, 10*time.Millisecond),
		visengine.WithOnChange(func(r *visengine.Richiesta) { fmt.Println("now:", r.StatoRichiesta) }))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready:", r.DocumentReady(), len(r.Allegati), "file")
	// Output:
	// now: In erogazione
	// now: Dati disponibili
	// ready: true 1 file
}

func ExampleCallbackHandler() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	// The receiver's address is needed for the callback, and the callback's
	// secret for the handler: listen first, serve after.
	receiver := httptest.NewUnstartedServer(nil)
	cb, err := visengine.NewCallback("http://"+receiver.Listener.Addr().String()+"/visengine", visengine.CallbackJSON)
	if err != nil {
		log.Fatal(err)
	}
	ready := make(chan bool, 4)
	receiver.Config.Handler = visengine.CallbackHandler(func(ctx context.Context, ev *visengine.CallbackEvent) error {
		r, err := ev.Reread(ctx) // a callback is a notification; the API is the truth
		if err != nil {
			return err // answered 500, so Visengine may deliver again
		}
		ready <- r.DocumentReady()
		return nil
	}, visengine.WithCallbackSecret(cb.Secret()), visengine.WithCallbackClient(c))
	receiver.Start()
	defer receiver.Close()

	v, err := c.GetVisura(ctx, a2Hash)
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Submit(ctx, v, applicant(v), visengine.WithCallback(cb))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Complete(r.ID); err != nil { // the operator finishes the work
		log.Fatal(err)
	}
	fmt.Println("document ready:", <-ready)
	// Output:
	// document ready: true
}
