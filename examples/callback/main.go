// Callback shows how to be told when a document is ready instead of
// polling, one function per step so each can be copied into a service of
// your own:
//
//  1. listenForCallbacks: a net/http server for Visengine's callbacks
//  2. newCallback: the callback_data with a secret (visengine.NewCallback)
//  3. serveCallbacks: visengine.CallbackHandler, which checks the secret and,
//     given the client (WithCallbackClient), reads the richiesta back from
//     the API before handing it on, since a callback is only a hint
//  4. submit: an A2 richiesta with visengine.WithCallback — or dryRun on a
//     real server without -pay
//  5. playOperator: on the embedded fake, finish the work as an operator would
//  6. awaitCallback: print each delivery until the document is ready
//
// Run it with
//
//	go run ./examples/callback
//
// With neither VISENGINE_URL nor VISENGINE_TOKEN set it starts an embedded
// fake Visengine server, plays the operator by moving the richiesta to "Dati
// disponibili", and the fake delivers the callback to a receiver on
// 127.0.0.1. With VISENGINE_URL and VISENGINE_TOKEN set (the two lines
// cmd/visengine-fake prints) it talks to that server, which calls back on
// loopback as it advances (visengine-fake -progress 2s). With VISENGINE_TOKEN
// alone (and -sandbox for the sandbox) Visengine itself calls back, so the
// receiver must be reachable from the internet over HTTPS: listen with
// -listen (e.g. :8080) behind a proxy or tunnel whose address you give with
// -public-url. Away from the embedded fake it makes only a free dry run
// unless -pay is given.
//
// Flags:
//
//	-sandbox          use the sandbox host (needs a sandbox token; VISENGINE_URL wins)
//	-pay              really submit away from the embedded fake (charges the wallet)
//	-listen ADDR      where the receiver listens (default 127.0.0.1:0, any free port)
//	-public-url URL   the receiver's URL as Visengine reaches it (required with -pay
//	                  on the real API or sandbox)
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
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, nothing else to do
	case err != nil:
		fmt.Fprintln(os.Stderr, "callback:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	sandbox   bool
	pay       bool
	listen    string
	publicURL string
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("callback", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.sandbox, "sandbox", false, "use the Visengine sandbox (needs a sandbox token in VISENGINE_TOKEN; VISENGINE_URL wins)")
	fs.BoolVar(&o.pay, "pay", false, "really submit and pay away from the embedded fake; without it only a free dry run is made")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address the callback receiver listens on")
	fs.StringVar(&o.publicURL, "public-url", "", "the receiver's URL as Visengine reaches it, e.g. https://example.com"+callbackPath)
	return o, fs.Parse(args)
}

// run is the whole example; main calls it with the command line and stdout,
// tests with their own arguments and a buffer. -h returns flag.ErrHelp.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	// The embedded fake moves on only when told (no WithAutoAdvance): this
	// example plays the operator itself.
	target, err := env.Open(out, os.Getenv, o.sandbox, visenginetest.WithAutoAdvance(0))
	if err != nil {
		return err
	}
	defer target.Close()
	internet := target.Kind == env.Production || target.Kind == env.Sandbox // calls back over the internet
	if internet && o.pay && o.publicURL == "" {
		return errors.New("-pay on the real API needs -public-url: Visengine must reach the receiver from the internet over HTTPS")
	}

	rcv, err := listenForCallbacks(o.listen, o.publicURL)
	if err != nil {
		return err
	}
	defer rcv.close()
	cb, err := newCallback(rcv.url)
	if err != nil {
		return err
	}
	if err := rcv.serveCallbacks(cb, target.Client); err != nil {
		return err
	}
	announce(out, rcv, internet)

	v, values, err := readApplicant(ctx, target.Client)
	if err != nil {
		return err
	}
	if target.Fake == nil && !o.pay {
		return dryRun(ctx, target.Client, out, v, values, cb)
	}
	r, err := submit(ctx, target.Client, out, v, values, cb)
	if err != nil {
		return err
	}
	timeout := time.Duration(0) // real operators may take hours
	if target.Fake != nil {
		if err := playOperator(out, target.Fake, r); err != nil {
			return err
		}
		timeout = 10 * time.Second // the fake calls back at once
	}
	return awaitCallback(ctx, out, rcv.deliveries, timeout)
}

// receiver is the HTTP server that takes Visengine's callbacks and passes
// each genuine one on through deliveries.
type receiver struct {
	ln         net.Listener
	url        string // as Visengine reaches it
	srv        *http.Server
	deliveries chan delivery
}

// delivery is what the handler passes on: the richiesta as read back from
// the API.
type delivery struct {
	richiesta *visengine.Richiesta
}

// listenForCallbacks opens the receiver's port. Its URL is publicURL when
// given (a proxy or tunnel in front of it), otherwise its own address.
func listenForCallbacks(listen, publicURL string) (*receiver, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	url := publicURL
	if url == "" {
		url = "http://" + ln.Addr().String() + callbackPath
	}
	return &receiver{ln: ln, url: url, deliveries: make(chan delivery, 8)}, nil
}

// newCallback asks for a JSON callback to url, with a random secret that
// Visengine echoes in every delivery.
//
// A real service makes ONE callback at start-up, keeps its secret
// (cb.Secret()) in its configuration next to the token and, after a
// restart, rebuilds it with visengine.NewCallbackWithSecret: the handler
// checks that one secret for every richiesta still in flight.
func newCallback(url string) (*visengine.Callback, error) {
	return visengine.NewCallback(url, visengine.CallbackJSON)
}

// serveCallbacks serves visengine.CallbackHandler on the receiver. The
// handler refuses deliveries without cb's secret (401). With the client it
// treats the others as a hint: it reads the richiesta back from the API
// with the client's own token (answering 503, so that Visengine delivers
// again, when that fails) and passes on what the API says, never the
// posted body, which anyone who saw one delivery could forge. A delivery
// repeated for the same richiesta and stato is acknowledged without calling
// the function again.
func (rcv *receiver) serveCallbacks(cb *visengine.Callback, c *visengine.Client) error {
	handler, err := visengine.CallbackHandler(func(ctx context.Context, ev *visengine.CallbackEvent) error {
		select {
		case rcv.deliveries <- delivery{richiesta: ev.Richiesta}:
		default: // nobody is reading any more
		}
		return nil // an error would answer 500, so Visengine delivers again
	}, visengine.WithCallbackSecret(cb.Secret()), visengine.WithCallbackClient(c))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+callbackPath, handler)
	rcv.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rcv.srv.Serve(rcv.ln) }()
	return nil
}

// close stops the receiver, letting a delivery in progress finish.
func (rcv *receiver) close() {
	if rcv.srv == nil {
		_ = rcv.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rcv.srv.Shutdown(ctx)
}

// announce says where the receiver listens and who will call it.
func announce(out io.Writer, rcv *receiver, internet bool) {
	if internet {
		fmt.Fprintf(out, "Receiver listening on %s; Visengine will call %s\n", rcv.ln.Addr(), rcv.url)
		fmt.Fprintln(out, "That URL must be reachable from the internet over HTTPS (see -listen and -public-url).")
		return
	}
	fmt.Fprintf(out, "Receiver listening on %s; the server will call %s\n", rcv.ln.Addr(), rcv.url)
}

// readApplicant reads the A2 structure (GET /visure/{hash}) and fills in a
// complete, made-up applicant, checked locally.
func readApplicant(ctx context.Context, c *visengine.Client) (*visengine.Visura, visengine.Values, error) {
	v, err := c.GetVisura(ctx, hashA2)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the A2 structure: %w", err)
	}
	values, err := applicant(v)
	if err != nil {
		return nil, nil, err
	}
	return v, values, nil
}

// dryRun has the server validate the richiesta with its callback, without
// creating it or charging anything; no callback will come.
func dryRun(ctx context.Context, c *visengine.Client, out io.Writer, v *visengine.Visura, values visengine.Values, cb *visengine.Callback) error {
	if _, err := c.DryRun(ctx, v, values, visengine.WithCallback(cb)); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	fmt.Fprintln(out, "Dry run accepted with the callback; nothing was charged and no callback will come.")
	fmt.Fprintln(out, "Run again with -pay (and, on the real API, -listen :PORT -public-url https://…) to submit and receive it.")
	return nil
}

// submit pays for the richiesta, asking for cb to be called back.
func submit(ctx context.Context, c *visengine.Client, out io.Writer, v *visengine.Visura, values visengine.Values, cb *visengine.Callback) (*visengine.Richiesta, error) {
	r, err := c.Submit(ctx, v, values, visengine.WithCallback(cb))
	if err != nil {
		return nil, fmt.Errorf("submitting: %w", err)
	}
	fmt.Fprintf(out, "Submitted richiesta %s: %s\n", r.ID, r.StatoRichiesta)
	return r, nil
}

// playOperator moves the richiesta on, on the embedded fake, as Visengine's
// operator would once the document is made: the fake then calls back.
func playOperator(out io.Writer, fake *visenginetest.Server, r *visengine.Richiesta) error {
	stato, err := fake.Advance(r.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Fake operator: %s -> %s\n", r.StatoRichiesta, stato)
	return nil
}

// awaitCallback prints each delivery until one, read back from the API,
// shows the document ready, or ctx ends, or timeout passes (0: no limit).
func awaitCallback(ctx context.Context, out io.Writer, deliveries <-chan delivery, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	} else {
		fmt.Fprintln(out, "Waiting for the callback (real operators may take hours; Ctrl-C stops)...")
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no callback received: %w", ctx.Err())
		case d := <-deliveries:
			r := d.richiesta
			fmt.Fprintf(out, "Callback received: richiesta %s, read back from the API: %s, document ready: %t\n",
				r.ID, r.StatoRichiesta, r.DocumentReady())
			if r.DocumentReady() {
				fmt.Fprintln(out, "The document can now be downloaded (see examples/quickstart).")
				return nil
			}
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
