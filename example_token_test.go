package visengine_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

func ExampleWithTokenSource() {
	srv := visenginetest.NewServer() // Visengine and Openapi's OAuth service, faked
	defer srv.Close()
	ctx := context.Background()

	// In production: oauth.NewClient(os.Getenv("OPENAPI_EMAIL"), os.Getenv("OPENAPI_APIKEY")).
	account, err := oauth.NewClient(srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := oauth.NewTokenSource(account, oauth.WithScopes(oauth.VisengineReadOnlyScopes(false)...))
	if err != nil {
		log.Fatal(err)
	}
	c, err := visengine.NewClient("", visengine.WithBaseURL(srv.URL), visengine.WithTokenSource(ts))
	if err != nil {
		log.Fatal(err)
	}
	list, err := c.ListVisure(ctx)
	fmt.Println(len(list), err)

	// A read-only token cannot buy: refused before anything is sent.
	_, err = c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b"})
	fmt.Println(err)
	// Output:
	// 92 <nil>
	// visengine: POST /richiesta not sent: token lacks the scope for this call: POST:visengine2.altravia.com/richiesta
}

func ExampleWithCreditCheck() {
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Cents(15_00))) // €15.00
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()
	account, err := oauth.NewClient(srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b") // €20
	if err != nil {
		log.Fatal(err)
	}
	values := visengine.Values{
		"$0": "Mario", "$1": "Rossi", "$2": "mario.rossi@example.com", "$3": "+39 333 000 0000",
		"$4": "RSSMRA80A01H501U",
		"$5": visengine.FileValue("id.pdf", "application/pdf", []byte("%PDF-1.4")),
		"$6": visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff}),
	}
	_, err = c.Submit(ctx, v, values, visengine.WithCreditCheck(account))
	fmt.Println(errors.Is(err, visengine.ErrInsufficientCredit))
	fmt.Println(err)
	fmt.Println(len(srv.Requests()), "requests: GET /visure/{hash}, GET /oauth/v2/wallet")
	// Output:
	// true
	// visengine: insufficient credit: the wallet holds €15.00, the richiesta costs €20.00 (checked before paying; nothing sent)
	// 2 requests: GET /visure/{hash}, GET /oauth/v2/wallet
}
