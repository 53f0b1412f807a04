package oauth

import (
	"context"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/visengine-go/visengine"
)

// answerTransport answers every request with one status and body.
type answerTransport struct {
	status int
	body   []byte
}

func (a answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Body: io.NopCloser(strings.NewReader(string(a.body))), Header: http.Header{}, Request: r}, nil
}

// FuzzDecodeAnswer feeds arbitrary answers to every decoder through the
// client: each call returns a result or an *APIError, never panics, and no
// error repeats the credentials or the token, whatever the body echoes.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add(200, []byte(v2Detail), false)
	f.Add(200, []byte(v1Single), true)
	f.Add(200, []byte(v1Create), true)
	f.Add(200, []byte(`{"data":{"credit":"125.505"}}`), false)
	f.Add(200, []byte(`{"data":{"data":["GET:a/b"]},"success":true}`), true)
	f.Add(200, []byte(`{"data":[{"scope":"GET:a/b","enabled":false}]}`), false)
	f.Add(404, []byte(`{"success":false,"message":"`+canaryToken+` `+canaryEmail+`","error":"120","data":null}`), false)
	f.Add(200, []byte(`{"success":false,"message":{"x":1},"error":125}`), true)
	f.Add(200, []byte(`{"token":"a","expireAt":1700000000000,"limits":{"totalRequests":"1e3","walletAmount":false}}`), false)
	f.Add(200, []byte(`{"data":[{"id":"txn_1","amount":-0.001,"createdAt":"2026-02-12T08:30:00+00:00","description":"API usage - visengine2.altravia.com"},{"id":7,"amount":"x"}]}`), false)
	f.Fuzz(func(t *testing.T, status int, body []byte, v1 bool) {
		if status < 200 || status > 599 {
			return
		}
		opts := []Option{WithHTTPClient(&http.Client{Transport: answerTransport{status, body}})}
		if v1 {
			opts = append(opts, WithV1())
		}
		c, err := NewClient(canaryEmail, canaryKey, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, e1 := c.GetToken(ctx, canaryToken)
		_, e2 := c.ListTokens(ctx)
		_, e3 := c.ListScopes(ctx)
		_, e4 := c.Wallet(ctx)
		e5 := c.RevokeToken(ctx, canaryToken)
		errs := []error{e1, e2, e3, e4, e5}
		if !v1 { // v1 has no ledger
			n := 0
			for _, err := range c.Transactions(ctx) {
				if err != nil {
					errs = append(errs, err)
				}
				if n++; n > 300 { // the same full page answers every request
					break
				}
			}
		}
		for _, err := range errs {
			if err == nil {
				continue
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if ae.StatusCode != status {
				t.Fatalf("status %d reported as %d", status, ae.StatusCode)
			}
			msg := err.Error()
			for _, s := range []string{canaryToken, canaryEmail, canaryKey} {
				if strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
					t.Fatalf("error repeats a secret: %q", msg)
				}
			}
			if len(ae.Message) > maxMessage+len("…") {
				t.Fatalf("message of %d bytes", len(ae.Message))
			}
		}
	})
}

// FuzzParseMoney checks the rounding against big.Rat: an amount parses to
// its value in micro-euro rounded down, or is refused.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"125.5", "423.38", "0.005", "-0.001", "-1.239", "12.3456789", "-0.0000001", "0.0000019", "1e2", "1.2345e2", "x", "-0.00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseMoney(s)
		if exact, exactErr := visengine.ParsePrice(s); exactErr == nil {
			if err != nil || p != exact {
				t.Fatalf("%q: exact %v, got %v, %v", s, exact, p, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, errShape) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q parsed as %v but is not a number", s, p)
		}
		r.Mul(r, big.NewRat(1_000_000, 1))
		floor := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: floors for a positive denominator
		if !floor.IsInt64() || floor.Int64() != p.Micros() {
			t.Fatalf("%q: got %d micro-euro, want %s", s, p.Micros(), floor)
		}
	})
}
