// Callback shows how to be told when a document is ready instead of
// polling: it starts a receiver (visengine.CallbackHandler on a plain
// net/http server), asks for a callback with a secret (visengine.NewCallback,
// delivered as JSON), submits an A2 richiesta with visengine.WithCallback,
// prints each delivery the handler accepts and reads the richiesta back from
// the API (CallbackEvent.Reread), since a callback is only a notification.
//
// Run it with
//
//	go run ./examples/callback
//
// With no VISENGINE_TOKEN set it starts an embedded fake Visengine server,
// plays the operator by moving the richiesta to "Dati disponibili", and the
// fake delivers the callback to a receiver on 127.0.0.1. With VISENGINE_TOKEN
// set (and -sandbox for the sandbox) Visengine itself calls back, so the
// receiver must be reachable from the internet over HTTPS: listen with
// -listen (e.g. :8080) behind a proxy or tunnel whose address you give with
// -public-url. Without -pay it then only makes a free dry run.
//
// Flags:
//
//	-sandbox          use the sandbox host (needs a sandbox token)
//	-pay              really submit on the real API or sandbox (charges the wallet)
//	-listen ADDR      where the receiver listens (default 127.0.0.1:0, any free port)
//	-public-url URL   the receiver's URL as Visengine reaches it (required with -pay)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/examples/internal/env"
	"github.com/visengine-go/visengine/visenginetest"
)

// hashA2 is the service "Domanda Esame A2 per Carta di Soggiorno".
const hashA2 = "2631ec9b62135de4186f509fea7d954b"

// callbackPath is where the receiver answers.
const callbackPath = "/visengine/callback"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "callback:", err)
		os.Exit(1)
	}
}

// delivery is what the handler passes on: the richiesta as posted and as
// read back from the API.
type delivery struct {
	posted, reread *visengine.Richiesta
	err            error
}

// run is the whole example; main calls it with the command line and stdout,
// tests with their own arguments and a buffer.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("callback", flag.ContinueOnError)
	fs.SetOutput(out)
	sandbox := fs.Bool("sandbox", false, "use the Visengine sandbox (needs a sandbox token in VISENGINE_TOKEN)")
	pay := fs.Bool("pay", false, "really submit and pay on the real API or sandbox; without it only a free dry run is made")
	listen := fs.String("listen", "127.0.0.1:0", "address the callback receiver listens on")
	publicURL := fs.String("public-url", "", "the receiver's URL as Visengine reaches it, e.g. https://example.com"+callbackPath)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	// The fake moves on only when told (no WithAutoAdvance): this example
	// plays the operator itself.
	c, fake, cleanup, err := env.Open(out, *sandbox, visenginetest.WithAutoAdvance(0))
	defer cleanup()
	if err != nil {
		return err
	}
	live := fake == nil
	if live && *pay && *publicURL == "" {
		return errors.New("-pay on the real API needs -public-url: Visengine must reach the receiver from the internet over HTTPS")
	}

	// The receiver.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	url := *publicURL
	if url == "" {
		url = "http://" + ln.Addr().String() + callbackPath
	}
	// A real service makes one callback at start-up, keeps its secret
	// (cb.Secret()) in its configuration and rebuilds it after a restart
	// with visengine.NewCallbackWithSecret: the handler checks that one
	// secret, for every richiesta still in flight.
	cb, err := visengine.NewCallback(url, visengine.CallbackJSON)
	if err != nil {
		_ = ln.Close()
		return err
	}
	deliveries := make(chan delivery, 8)
	handler := visengine.CallbackHandler(func(ctx context.Context, ev *visengine.CallbackEvent) error {
		// Treat the post as a hint and read the richiesta from the API.
		r, err := ev.Reread(ctx)
		select {
		case deliveries <- delivery{posted: ev.Richiesta, reread: r, err: err}:
		default: // nobody is reading any more
		}
		return err // an error answers 500, so Visengine delivers again
	}, visengine.WithCallbackSecret(cb.Secret()), visengine.WithCallbackClient(c))
	mux := http.NewServeMux()
	mux.Handle("POST "+callbackPath, handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if live {
		fmt.Fprintf(out, "Receiver listening on %s; Visengine will call %s\n", ln.Addr(), url)
		fmt.Fprintln(out, "That URL must be reachable from the internet over HTTPS (see -listen and -public-url).")
	} else {
		fmt.Fprintln(out, "Receiver listening on 127.0.0.1 for the fake's callbacks")
	}

	v, err := c.GetVisura(ctx, hashA2)
	if err != nil {
		return fmt.Errorf("reading the A2 structure: %w", err)
	}
	values, err := applicant(v)
	if err != nil {
		return err
	}

	if live && !*pay {
		if _, err := c.DryRun(ctx, v, values, visengine.WithCallback(cb)); err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		fmt.Fprintln(out, "Dry run accepted with the callback; nothing was charged and no callback will come.")
		fmt.Fprintln(out, "Run again with -pay -listen :PORT -public-url https://… to submit and receive it.")
		return nil
	}

	r, err := c.Submit(ctx, v, values, visengine.WithCallback(cb))
	if err != nil {
		return fmt.Errorf("submitting: %w", err)
	}
	fmt.Fprintf(out, "Submitted richiesta %s: %s\n", r.ID, r.StatoRichiesta)

	if fake != nil {
		stato, err := fake.Advance(r.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Fake operator: %s -> %s\n", r.StatoRichiesta, stato)
	} else {
		fmt.Fprintln(out, "Waiting for Visengine's callback (operators may take hours; Ctrl-C stops)...")
	}

	wait := ctx
	if fake != nil {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	for {
		select {
		case <-wait.Done():
			return fmt.Errorf("no callback received: %w", wait.Err())
		case d := <-deliveries:
			fmt.Fprintf(out, "Callback received: richiesta %s, %s\n", d.posted.ID, d.posted.StatoRichiesta)
			if d.err != nil {
				fmt.Fprintf(out, "  reading it back failed (answered 500, Visengine will retry): %v\n", d.err)
				continue
			}
			fmt.Fprintf(out, "  read back from the API: %s, document ready: %t\n", d.reread.StatoRichiesta, d.reread.DocumentReady())
			if !d.reread.DocumentReady() {
				continue
			}
			fmt.Fprintln(out, "The document can now be downloaded (see examples/quickstart).")
			return nil
		}
	}
}

// applicant returns a complete, made-up A2 applicant: test codice fiscale,
// an example.com e-mail, and files of a few bytes.
func applicant(v *visengine.Visura) (visengine.Values, error) {
	values := visengine.Values{}
	for name, value := range map[string]string{
		"Nome":           "Mario",
		"Cognome":        "Rossi",
		"Email":          "mario.rossi@example.com",
		"CELLULARE":      "+39 333 000 0000",
		"CODICE FISCALE": "RSSMRA80A01H501U",
	} {
		if err := values.SetField(v, name, value); err != nil {
			return nil, err
		}
	}
	values.Set("$5", visengine.FileValue("documento-identita.pdf", "application/pdf", []byte("%PDF-1.4\n%%EOF\n")))
	values.Set("$6", visengine.FileValue("codice-fiscale.jpg", "image/jpeg", []byte{0xFF, 0xD8, 0xFF, 0xD9}))
	return values, v.Validate(values)
}
