package oauth_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
)

// Create a token for Visengine's sandbox from the account's e-mail and API
// key. Without WithBaseURL the client talks to oauth.openapi.com.
func ExampleNewClient() {
	srv := startOAuth() // stands in for Openapi's OAuth service
	defer srv.Close()

	c, err := oauth.NewClient("you@example.com", "your-api-key", oauth.WithSandbox(), oauth.WithBaseURL(srv.URL+"/v2"))
	if err != nil {
		log.Fatal(err)
	}
	info, err := c.CreateToken(context.Background(), oauth.CreateTokenParams{
		Scopes: oauth.VisengineScopes(c.Sandbox()),
		Name:   "caf-backend",
		TTL:    30 * 24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("lifetime", info.ExpiresAt.Sub(info.CreatedAt))
	for _, s := range info.Scopes {
		fmt.Println(s)
	}
	// Output:
	// lifetime 720h0m0s
	// GET:test.visengine2.altravia.com/visure
	// GET:test.visengine2.altravia.com/richiesta
	// POST:test.visengine2.altravia.com/richiesta
	// PUT:test.visengine2.altravia.com/richiesta
	// GET:test.visengine2.altravia.com/documento
}

// Read the wallet before submitting a batch of paid richieste. The credit
// is exact, in cents; it can change right after it is read.
func ExampleClient_Credit() {
	srv := startOAuth()
	defer srv.Close()

	c, err := oauth.NewClient("you@example.com", "your-api-key", oauth.WithBaseURL(srv.URL+"/v2"))
	if err != nil {
		log.Fatal(err)
	}
	credit, err := c.Credit(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	batch := visengine.Euros(20).Mul(20) // twenty A2 applications at €20
	fmt.Println(credit, credit.Cmp(batch) >= 0)
	// Output: €423.38 true
}

// A TokenSource creates a Visengine token on first use and renews it
// before it expires; with a store, a restart reuses it.
func ExampleNewTokenSource() {
	srv := startOAuth()
	defer srv.Close()

	c, err := oauth.NewClient("you@example.com", "your-api-key", oauth.WithBaseURL(srv.URL+"/v2"))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := oauth.NewTokenSource(c, oauth.WithTTL(7*24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ts.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// A visengine.Client takes its bearer token from ts; the token's scopes
	// say which calls it may make.
	fmt.Println(tok.HasScope(visengine.ScopeFor(visengine.ProductionURL, "POST", "/richiesta")))
	fmt.Println(tok.HasScope(visengine.ScopeFor(visengine.SandboxURL, "POST", "/richiesta")))
	fmt.Println(time.Until(tok.Expiry).Round(time.Hour))
	// Output:
	// true
	// false
	// 168h0m0s
}

// Ask for fewer scopes: a worker that only downloads documents cannot buy
// anything with its token.
func ExampleVisengineReadOnlyScopes() {
	for _, s := range oauth.VisengineReadOnlyScopes(false) {
		fmt.Println(s)
	}
	// Output:
	// GET:visengine2.altravia.com/visure
	// GET:visengine2.altravia.com/richiesta
	// GET:visengine2.altravia.com/documento
}
