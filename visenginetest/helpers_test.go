package visenginetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// answer is a decoded reply of the fake.
type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	Env    map[string]any
}

// data returns the envelope's data as an object.
func (a answer) data(t *testing.T) map[string]any {
	t.Helper()
	d, ok := a.Env["data"].(map[string]any)
	require.Truef(t, ok, "data is not an object: %s", a.Raw)
	return d
}

// code returns the envelope's error code.
func (a answer) code() int {
	f, _ := a.Env["error"].(float64)
	return int(f)
}

func (a answer) message() string {
	s, _ := a.Env["message"].(string)
	return s
}

// call sends a raw request with the server's token; body may be a string,
// bytes or a value to encode.
func call(t *testing.T, srv *Server, method, path string, body any) answer {
	t.Helper()
	return callWithToken(t, srv, srv.Token, method, path, body)
}

func callWithToken(t *testing.T, srv *Server, token, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	require.NoErrorf(t, json.Unmarshal(raw, &a.Env), "not JSON: %s", raw)
	return a
}

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// create submits a richiesta and returns its id.
func create(t *testing.T, srv *Server, body map[string]any) string {
	t.Helper()
	a := call(t, srv, "POST", "/richiesta", body)
	require.Equalf(t, 200, a.Status, "%s", a.Raw)
	id, _ := a.data(t)["_id"].(string)
	require.Len(t, id, 24)
	return id
}

const (
	hashOrdinaria = "eccbc87e4b5ce2fe28308fd9f2a7baf3"
	hashCariche   = "f3a0979f15915b337aafabcd89c5ee70"
	hashA2        = "2631ec9b62135de4186f509fea7d954b"
	hashRicerca   = "afa0b4cu7yd06226i5d89p00077c3j6t"
)

// a2Values fills every required A2 field.
func a2Values() map[string]string {
	return map[string]string{
		"$0": "Mario", "$1": "Rossi", "$2": "mario.rossi@example.com", "$3": "3331234567",
		"$4": "RSSMRA85M01H501Q", "$5": "doc|data:application/pdf;base64,JVBERi0=",
		"$6": "cf|data:application/pdf;base64,JVBERi0=",
	}
}
