package oauth_test

import (
	"net/http/httptest"

	"github.com/visengine-go/visengine/internal/oauthfake"
)

// exampleWallet is the examples' account credit, €423.38.
type exampleWallet struct{}

func (exampleWallet) BalanceMicros() int64 { return 423_380_000 }

// startOAuth serves a fake OAuth service standing in for Openapi's, so the
// examples run anywhere. Its v2 API is at URL+"/v2".
func startOAuth() *httptest.Server {
	s, err := oauthfake.New("you@example.com", "your-api-key", oauthfake.WithWallet(exampleWallet{}))
	if err != nil {
		panic(err)
	}
	return httptest.NewServer(s)
}
