package visenginetest_test

import (
	"context"
	"fmt"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// The fake's OAuth service issues the tokens its Visengine accepts, and
// shows the wallet Visengine charges.
func ExampleServer_oauth() {
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Cents(50_00)))
	defer srv.Close()
	ctx := context.Background()

	account, err := oauth.NewClient(srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	if err != nil {
		panic(err)
	}
	ts, err := oauth.NewTokenSource(account)
	if err != nil {
		panic(err)
	}
	c, err := visengine.NewClient("", visengine.WithBaseURL(srv.URL), visengine.WithTokenSource(ts))
	if err != nil {
		panic(err)
	}
	list, err := c.ListVisure(ctx)
	if err != nil {
		panic(err)
	}
	credit, err := account.Credit(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(list), "services; credit", credit)
	// Output:
	// 92 services; credit €50.00
}
