package visenginetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// These tests drive the real SDK (visengine.Client) against the real fake
// (visenginetest.Server): the flows a user's code runs, with the fake's
// fault injection standing in for a network that fails at the worst time.

const (
	hashA2        = "2631ec9b62135de4186f509fea7d954b"
	hashRicerca   = "afa0b4cu7yd06226i5d89p00077c3j6t"
	hashOrdinaria = "eccbc87e4b5ce2fe28308fd9f2a7baf3"
	hashCariche   = "f3a0979f15915b337aafabcd89c5ee70"
)

// fake starts a server that is closed when the test ends, and a client for it.
func fake(t *testing.T, opts ...visenginetest.Option) (*visenginetest.Server, *visengine.Client) {
	t.Helper()
	srv := visenginetest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, srv.Client()
}

// testCtx is a context that ends with the test, or after 10s at most, so a
// hung flow fails instead of stalling the suite.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func getVisura(t *testing.T, c *visengine.Client, hash string) *visengine.Visura {
	t.Helper()
	v, err := c.GetVisura(testCtx(t), hash)
	require.NoError(t, err)
	return v
}

// codiceFiscale completes the first 15 characters of a codice fiscale with
// its check character, so tests can make many distinct valid applicants.
func codiceFiscale(first15 string) string {
	odd := [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
		1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23} // A-Z
	sum := 0
	for i, r := range first15 {
		n := int(r - '0')
		if r >= 'A' {
			n = int(r-'A') + 10
		}
		if i%2 == 0 { // odd position, 1-based
			sum += odd[n]
		} else if r >= 'A' {
			sum += int(r - 'A')
		} else {
			sum += n
		}
	}
	return first15 + string(rune('A'+sum%26))
}

// applicant returns complete, valid A2 values; n varies the person (name,
// e-mail, day of birth in the codice fiscale), for 0 <= n < 31.
func applicant(n int) visengine.Values {
	return visengine.Values{
		"$0": fmt.Sprintf("Mario%d", n),
		"$1": "Rossi",
		"$2": fmt.Sprintf("mario.rossi%d@example.it", n),
		"$3": "3331234567",
		"$4": codiceFiscale(fmt.Sprintf("RSSMRA80A%02dH501", n+1)),
		"$5": visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.4 documento")),
		"$6": visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe0}),
	}
}

// since returns the requests the server recorded after the first n.
func since(srv *visenginetest.Server, n int) []visenginetest.Request {
	return srv.Requests()[n:]
}

// count returns how many of reqs have method and a path matching pattern,
// where "*" matches one segment.
func count(reqs []visenginetest.Request, method, pattern string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && pathMatches(pattern, r.Path) {
			n++
		}
	}
	return n
}

func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// closes counts the PUT /richiesta/{id} requests that asked to close (state 1).
func closes(reqs []visenginetest.Request, id string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "PUT" && r.Path == "/richiesta/"+id && bodyState(r.Body) == 1 {
			n++
		}
	}
	return n
}

// bodyState reads "state" from a JSON body; -1 when absent.
func bodyState(body []byte) int {
	var b struct {
		State *int `json:"state"`
	}
	if json.Unmarshal(body, &b) != nil || b.State == nil {
		return -1
	}
	return *b.State
}

// summary lists the requests, for failure messages.
func summary(reqs []visenginetest.Request) string {
	var b bytes.Buffer
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.Path)
	}
	return b.String()
}
