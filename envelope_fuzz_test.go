package visengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzEnvelope feeds arbitrary answers to the envelope decoder: it must
// return a typed error or a result, never panic, and never call an answer
// without "success": true a success.
func FuzzEnvelope(f *testing.F) {
	for _, name := range []string{"spec/get_visure_200.json", "spec/get_visure_hash_200.json", "spec/post_richiesta_200.json",
		"spec/get_richiesta_200.json", "spec/post_richiesta_402.json", "spec/put_richiesta_id_ricerche_200.json"} {
		f.Add(200, readTestdata(f, name))
	}
	f.Add(502, []byte("<html>Bad gateway</html>"))
	f.Add(200, []byte(`{"data":null,"success":true}`))
	f.Add(404, []byte(`{"data":null,"success":false,"message":"x","error":"203"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		for _, out := range []any{new(Visura), new([]VisuraSummary), new(Richiesta), new([]RichiestaSummary)} {
			_, err := interpret(context.Background(), status, bytes.NewReader(body), maxResponseBody, out)
			if err == nil {
				var env refEnvelope
				if json.Unmarshal(body, &env) != nil || env.Success == nil || !*env.Success || status/100 != 2 {
					t.Fatalf("success without a successful envelope: %d %q", status, body)
				}
				continue
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if apiErr.StatusCode != status {
				t.Fatalf("status %d reported as %d", status, apiErr.StatusCode)
			}
		}
	})
}

// FuzzParsePrice checks that a price either parses exactly or is refused,
// and that what parses prints back to the same amount.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"20", "4.78", "0.38", "1e1", "-0.5", "4.785", "9e30", "00.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		if err != nil {
			if !errors.Is(err, ErrBadPrice) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		b, _ := p.MarshalJSON()
		again, err := ParsePrice(string(b))
		if err != nil || again != p {
			t.Fatalf("%q → %v → %s → %v, %v", s, p, b, again, err)
		}
	})
}
