package visengine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// Make ONE callback when the service is first set up and store its secret
// with the token; after a restart, rebuild the same callback from the
// stored secret, so the handler still accepts deliveries for richieste sent
// before. Here the deliveries are posted by hand, as Visengine would.
func ExampleNewCallback() {
	const url = "https://caf.example.com/visengine/callback"
	cb, err := visengine.NewCallback(url, visengine.CallbackJSON)
	if err != nil {
		log.Fatal(err)
	}
	secret := cb.Secret() // store it in the secret store, next to the token

	// After a restart.
	cb, err = visengine.NewCallbackWithSecret(url, visengine.CallbackJSON, secret)
	if err != nil {
		log.Fatal(err)
	}
	// A real handler is also given the client (WithCallbackClient, see
	// CallbackHandler's example), so that fn gets the richiesta read back
	// from the API; without one, fn gets the posted body, as here.
	handler, err := visengine.CallbackHandler(func(ctx context.Context, ev *visengine.CallbackEvent) error {
		fmt.Println("delivery:", ev.Richiesta.ID, ev.Richiesta.StatoRichiesta, "from the API:", ev.FromAPI)
		return nil
	}, visengine.WithCallbackSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	receiver := httptest.NewServer(handler)
	defer receiver.Close()

	// Visengine posts {"data": <richiesta>}, echoing the callback_data sent
	// with the richiesta, secret included.
	deliver := func(cb *visengine.Callback) int {
		body, err := json.Marshal(map[string]any{"data": map[string]any{
			"_id": "5f2829ce065afc21cc60ad0e", "state": 1, "hash_visura": "2631ec9b62135de4186f509fea7d954b",
			"stato_richiesta": "Dati disponibili", "callback_data": cb,
		}})
		if err != nil {
			log.Fatal(err)
		}
		resp, err := http.Post(receiver.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(deliver(cb))
	forged, err := visengine.NewCallback(url, visengine.CallbackJSON) // another secret
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deliver(forged))
	fmt.Println(cb) // the secret never prints
	// Output:
	// delivery: 5f2829ce065afc21cc60ad0e Dati disponibili from the API: false
	// 200
	// 401
	// visengine.Callback{URL:https://caf.example.com/visengine/callback Method:JSON Field:}
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
	// With the client, each delivery is only a hint: the handler reads the
	// richiesta back from the API and fn gets what the API says.
	handler, err := visengine.CallbackHandler(func(ctx context.Context, ev *visengine.CallbackEvent) error {
		ready <- ev.FromAPI && ev.Richiesta.DocumentReady()
		return nil // an error answers 500, so Visengine may deliver again
	}, visengine.WithCallbackSecret(cb.Secret()), visengine.WithCallbackClient(c))
	if err != nil {
		log.Fatal(err)
	}
	receiver.Config.Handler = handler
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
