package visengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// delivery builds the JSON Visengine posts: {"data": <richiesta>} whose
// callback_data echoes the secret.
func delivery(secret string) string {
	return fmt.Sprintf(`{"data":{"_id":"5f2829ce065afc21cc60ad0e","state":1,"stato_richiesta":"Dati disponibili",
		"callback_data":{"url":"https://hooks.example.com/v","method":"JSON","field":"","data":{%q:%q}}}}`, CallbackSecretKey, secret)
}

func TestCallbackHandler(t *testing.T) {
	const secret = "s3cr3t-0123456789abcdef0123456789abcdef"
	form := func(field, payload string) string { return url.Values{field: {payload}}.Encode() }
	cases := []struct {
		name, method, ctype, body string
		fnErr                     error
		opts                      []CallbackOption
		status, calls             int
	}{
		{"json", "POST", "application/json", delivery(secret), nil, nil, 200, 1},
		{"json with charset", "POST", "application/json; charset=utf-8", delivery(secret), nil, nil, 200, 1},
		{"form", "POST", "application/x-www-form-urlencoded", form("data", delivery(secret)), nil, nil, 200, 1},
		{"form custom field", "POST", "application/x-www-form-urlencoded", form("visengineData", delivery(secret)), nil,
			[]CallbackOption{WithCallbackField("visengineData")}, 200, 1},
		{"form missing field", "POST", "application/x-www-form-urlencoded", form("other", delivery(secret)), nil, nil, 400, 0},
		{"wrong secret", "POST", "application/json", delivery("guess"), nil, nil, 401, 0},
		{"secret prefix", "POST", "application/json", delivery(secret[:10]), nil, nil, 401, 0},
		{"missing secret", "POST", "application/json", `{"data":{"_id":"abc","state":1,"callback_data":false}}`, nil, nil, 401, 0},
		{"handler without secret", "POST", "application/json", delivery(""), nil, []CallbackOption{WithCallbackSecret("")}, 401, 0},
		{"too big", "POST", "application/json", delivery(secret) + strings.Repeat(" ", 2<<20), nil, nil, 413, 0},
		{"small cap", "POST", "application/json", delivery(secret), nil, []CallbackOption{WithCallbackMaxBody(64)}, 413, 0},
		{"content type", "POST", "text/plain", delivery(secret), nil, nil, 415, 0},
		{"no content type", "POST", "", delivery(secret), nil, nil, 415, 0},
		{"bad json", "POST", "application/json", `{"data":`, nil, nil, 400, 0},
		{"no data", "POST", "application/json", `{"success":true}`, nil, nil, 400, 0},
		{"bad id", "POST", "application/json", `{"data":{"_id":"../x"}}`, nil, nil, 400, 0},
		{"get", "GET", "application/json", "", nil, nil, 405, 0},
		{"put", "PUT", "application/json", delivery(secret), nil, nil, 405, 0},
		{"fn fails", "POST", "application/json", delivery(secret), errors.New("db down"), nil, 500, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var got *Richiesta
			fn := func(_ context.Context, ev *CallbackEvent) error {
				calls.Add(1)
				got = ev.Richiesta
				return tc.fnErr
			}
			h := CallbackHandler(fn, append([]CallbackOption{WithCallbackSecret(secret)}, tc.opts...)...)
			req := httptest.NewRequest(tc.method, "/visengine/callback", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code)
			assert.EqualValues(t, tc.calls, calls.Load())
			assert.NotContains(t, rec.Body.String(), secret)
			if tc.status == 200 {
				assert.Equal(t, "5f2829ce065afc21cc60ad0e", got.ID)
				assert.Equal(t, StatoDatiDisponibili, got.StatoRichiesta)
			}
			if tc.status == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestCallbackHandlerConcurrentDeliveries(t *testing.T) {
	const secret = "concurrent-secret"
	var calls atomic.Int32
	seen := sync.Map{}
	srv := httptest.NewServer(CallbackHandler(func(_ context.Context, ev *CallbackEvent) error {
		calls.Add(1)
		seen.Store(ev.Richiesta.ID, true)
		return nil
	}, WithCallbackSecret(secret)))
	defer srv.Close()
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.Replace(delivery(secret), "5f2829ce065afc21cc60ad0e", fmt.Sprintf("%024d", i), 1)
			ctype := "application/json"
			if i%2 == 1 {
				body, ctype = url.Values{"data": {body}}.Encode(), "application/x-www-form-urlencoded"
			}
			resp, err := http.Post(srv.URL, ctype, strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 100, ok.Load())
	assert.EqualValues(t, 100, calls.Load())
	n := 0
	seen.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 100, n)
}

func TestCallbackEventReread(t *testing.T) {
	srv := scriptedServer(t, richiestaIn(StatoVisuraEvasa))
	c := newTestClient(t, srv.URL)
	var reread *Richiesta
	h := CallbackHandler(func(ctx context.Context, ev *CallbackEvent) error {
		var err error
		reread, err = ev.Reread(ctx)
		return err
	}, WithCallbackSecret("k"), WithCallbackClient(c))
	req := httptest.NewRequest("POST", "/", strings.NewReader(delivery("k")))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, StatoVisuraEvasa, reread.StatoRichiesta, "the API's answer, not the callback's")

	_, err := (&CallbackEvent{Richiesta: reread}).Reread(context.Background())
	assert.Error(t, err, "without a client there is nothing to re-read with")
}

// FuzzCallbackHandler posts arbitrary bodies: the handler must never panic,
// never call fn without the secret, and answer only the documented statuses.
func FuzzCallbackHandler(f *testing.F) {
	const secret = "fuzz-secret"
	f.Add("application/json", delivery(secret))
	f.Add("application/json", delivery("nope"))
	f.Add("application/x-www-form-urlencoded", url.Values{"data": {delivery(secret)}}.Encode())
	f.Add("application/json", `{"data":{"_id":"a","callback_data":{"data":{"visengine_secret":1}}}}`)
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		called := false
		h := CallbackHandler(func(_ context.Context, ev *CallbackEvent) error {
			called = true
			if ev.Richiesta.CallbackData.Secret() != secret {
				t.Fatal("fn called without the secret")
			}
			return nil
		}, WithCallbackSecret(secret), WithCallbackMaxBody(4096))
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200:
			if !called {
				t.Fatal("200 without fn")
			}
		case 400, 401, 413, 415:
			if called {
				t.Fatalf("fn called, then %d", rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}

func TestNewCallbackWithSecret(t *testing.T) {
	secret := strings.Repeat("k", MinCallbackSecretLen)
	cb, err := NewCallbackWithSecret("https://hooks.example.com/v", CallbackPOST, secret)
	require.NoError(t, err)
	assert.Equal(t, secret, cb.Secret())
	assert.Equal(t, "data", cb.Field)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(verb, cb), secret)
	}

	for _, short := range []string{"", "short", secret[:MinCallbackSecretLen-1]} {
		cb, err := NewCallbackWithSecret("https://hooks.example.com/v", CallbackJSON, short)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", short)
		assert.Nil(t, cb)
	}
	_, err = NewCallbackWithSecret("http://hooks.example.com/v", CallbackJSON, secret)
	assert.ErrorIs(t, err, ErrInvalidArgument, "the URL is still checked")

	// The persisted callback rebuilt after a restart is accepted by a
	// handler given the same secret.
	first, err := NewCallback("https://hooks.example.com/v", CallbackJSON)
	require.NoError(t, err)
	again, err := NewCallbackWithSecret(first.URL, first.Method, first.Secret())
	require.NoError(t, err)
	assert.Equal(t, first, again)
	h := CallbackHandler(func(context.Context, *CallbackEvent) error { return nil }, WithCallbackSecret(first.Secret()))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/cb", strings.NewReader(delivery(again.Secret())))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code)
}

func TestCallbackHandlerSecretsForRotation(t *testing.T) {
	oldSecret := strings.Repeat("o", 64)
	newSecret := strings.Repeat("n", 64)
	post := func(h http.Handler, secret string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/cb", strings.NewReader(delivery(secret)))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	ok := func(context.Context, *CallbackEvent) error { return nil }

	both := CallbackHandler(ok, WithCallbackSecrets(oldSecret, newSecret))
	assert.Equal(t, 200, post(both, oldSecret))
	assert.Equal(t, 200, post(both, newSecret))
	assert.Equal(t, 401, post(both, "guess"))
	assert.Equal(t, 401, post(both, ""))
	assert.Equal(t, 401, post(both, oldSecret[:10]))
	assert.Equal(t, 401, post(both, oldSecret+newSecret))

	withEmpty := CallbackHandler(ok, WithCallbackSecrets("", newSecret))
	assert.Equal(t, 401, post(withEmpty, ""), "an empty secret never matches")
	assert.Equal(t, 200, post(withEmpty, newSecret))

	none := CallbackHandler(ok, WithCallbackSecrets())
	assert.Equal(t, 401, post(none, ""))
	assert.Equal(t, 401, post(none, oldSecret))

	// The last option wins: after rotation the old secret is refused.
	rotated := CallbackHandler(ok, WithCallbackSecrets(oldSecret, newSecret), WithCallbackSecret(newSecret))
	assert.Equal(t, 401, post(rotated, oldSecret))
	assert.Equal(t, 200, post(rotated, newSecret))
}
