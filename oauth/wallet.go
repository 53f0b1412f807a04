package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/visengine-go/visengine"
)

// Wallet is the account's prepaid credit, from which Visengine's
// richieste are paid.
type Wallet struct {
	Credit    visengine.Price // exact to the millionth of a euro; a finer fraction is rounded down
	CreatedAt time.Time       // v2
	UpdatedAt time.Time       // v2: when the credit last changed
}

// Wallet reads the account's wallet: GET /wallet on v2, GET /credit on v1.
// An account without a wallet gives an error matching visengine.ErrNotFound
// (v1 error 320). The credit can change right after it is read: a check
// against it before paying is advisory.
func (c *Client) Wallet(ctx context.Context) (*Wallet, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	path := c.route("/wallet", "/credit")
	r := request{method: http.MethodGet, path: path, route: path}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	w, err := decodeWallet(resp.body)
	if err != nil {
		return nil, c.unexpected(r, resp.status, "decoding wallet: %s", describeJSONError(err))
	}
	return w, nil
}

// Credit returns the wallet's credit; see Wallet.
func (c *Client) Credit(ctx context.Context) (visengine.Price, error) {
	w, err := c.Wallet(ctx)
	if err != nil {
		return visengine.Price{}, err
	}
	return w.Credit, nil
}

func decodeWallet(body []byte) (*Wallet, error) {
	raw, err := payload(body)
	if err != nil {
		return nil, err
	}
	var w struct {
		Credit    json.RawMessage `json:"credit"`
		CreatedAt flexTime        `json:"createdAt"`
		UpdatedAt flexTime        `json:"updatedAt"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	// A missing credit is not zero credit: saying "0" would be a guess.
	if isNull(w.Credit) {
		return nil, fmt.Errorf("credit %w: missing", errShape)
	}
	var m money
	if err := m.UnmarshalJSON(w.Credit); err != nil {
		return nil, err
	}
	return &Wallet{Credit: visengine.Price(m), CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t}, nil
}
