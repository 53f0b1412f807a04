package visengine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileStall is the stall timeout of the corpus's client.
const hostileStall = 150 * time.Millisecond

// corpusSentinels names the errors X-Corpus-Expect may list.
var corpusSentinels = map[string]error{
	"ErrStalled": ErrStalled, "ErrOutcomeUnknown": ErrOutcomeUnknown, "ErrUnexpectedResponse": ErrUnexpectedResponse,
	"ErrInvalidRequest": ErrInvalidRequest, "ErrNotFound": ErrNotFound, "ErrServer": ErrServer,
	"ErrIntegrity": ErrIntegrity,
}

// hostileAnswer is one file of testdata/hostile/answers.
type hostileAnswer struct {
	call, expect string
	requests     int
	trickle      time.Duration
	stallAfter   int // body bytes sent before stalling; -1: before the status line; 0: no stall
	stall        bool
	head         []string // status line and headers, as sent
	body         []byte
}

func readHostileAnswer(t *testing.T, path string) *hostileAnswer {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	headText, body, ok := bytes.Cut(raw, []byte("\n\n"))
	require.True(t, ok, "no blank line after the head")
	a := &hostileAnswer{body: bytes.TrimSuffix(body, []byte("\n"))}
	sc := bufio.NewScanner(bytes.NewReader(headText))
	for sc.Scan() {
		line := sc.Text()
		name, value, _ := strings.Cut(line, ": ")
		switch {
		case strings.HasPrefix(line, "#"):
		case name == "X-Corpus-Call":
			a.call = value
		case name == "X-Corpus-Expect":
			a.expect = value
		case name == "X-Corpus-Requests":
			a.requests, err = strconv.Atoi(value)
			require.NoError(t, err)
		case name == "X-Corpus-Trickle":
			a.trickle, err = time.ParseDuration(value)
			require.NoError(t, err)
		case name == "X-Corpus-Stall-After":
			a.stall = true
			if a.stallAfter, err = strconv.Atoi(value); value == "headers" {
				a.stallAfter, err = -1, nil
			}
			require.NoError(t, err)
		case strings.HasPrefix(strings.ToLower(name), "content-length"):
		default:
			a.head = append(a.head, line)
		}
	}
	require.NotEmpty(t, a.call, "X-Corpus-Call")
	require.NotEmpty(t, a.expect, "X-Corpus-Expect")
	a.head = append(a.head, fmt.Sprintf("Content-Length: %d", len(a.body)))
	return a
}

// serve replays the answer on a hijacked connection.
func (a *hostileAnswer) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	hold := func() { // until the client gives up
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(io.Discard, buf)
	}
	if a.stall && a.stallAfter < 0 {
		hold()
		return
	}
	_, _ = conn.Write([]byte(strings.Join(a.head, "\r\n") + "\r\n\r\n"))
	body := a.body
	if a.stall {
		body = body[:min(a.stallAfter, len(body))]
	}
	for len(body) > 0 {
		n := len(body)
		if a.trickle > 0 {
			n = 1
			time.Sleep(a.trickle)
		}
		if _, err := conn.Write(body[:n]); err != nil {
			return
		}
		body = body[n:]
	}
	if a.stall {
		hold()
	}
}

// do makes the answer's call.
func (a *hostileAnswer) do(ctx context.Context, c *Client) error {
	switch a.call {
	case "GET /visure":
		_, err := c.ListVisure(ctx)
		return err
	case "GET /richiesta/{id}":
		_, err := c.GetRichiesta(ctx, cbID)
		return err
	case "POST /richiesta":
		_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b", State: StateSubmitted})
		return err
	case "PUT /richiesta/{id}":
		_, err := c.CloseRichiesta(ctx, cbID)
		return err
	case "GET /documento/{id}":
		_, err := c.DownloadDocumento(ctx, cbID, io.Discard)
		return err
	}
	return fmt.Errorf("unknown X-Corpus-Call %q", a.call)
}

// TestHostileAnswers serves every file of testdata/hostile/answers to the
// call it names and checks what the README there says.
func TestHostileAnswers(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "answers", "*.http"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".http"), func(t *testing.T) {
			t.Parallel()
			a := readHostileAnswer(t, path)
			srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) { a.serve(w, r) })
			c := newTestClient(t, srv.URL, WithStallTimeout(hostileStall), WithRetry(2, time.Millisecond, 5*time.Millisecond))
			start := time.Now()
			err := a.do(context.Background(), c)
			took := time.Since(start)
			if a.requests > 0 {
				assert.EqualValues(t, a.requests, srv.hits.Load(), "requests seen by the server")
			}
			if a.stall {
				assert.GreaterOrEqual(t, took, hostileStall, "never cut before the stall timeout")
				assert.Less(t, took, time.Duration(max(a.requests, 1))*hostileStall+3*time.Second, "cut about when the stall timeout ends")
			}
			if a.trickle > 0 {
				assert.Greater(t, took, 2*hostileStall, "the trickle lasted longer than the stall timeout")
			}
			if a.expect == "ok" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, name := range strings.Fields(a.expect) {
				sentinel, ok := corpusSentinels[name]
				require.True(t, ok, "unknown sentinel %s", name)
				assert.ErrorIs(t, err, sentinel)
			}
			assertHostileErrorClean(t, err, a.body)
		})
	}
}

// assertHostileErrorClean checks what no server may put in an error.
func assertHostileErrorClean(t *testing.T, err error, body []byte) {
	t.Helper()
	msg := err.Error()
	bad := strings.IndexFunc(msg, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) })
	assert.Equal(t, -1, bad, "a control, format or separator character in %q", msg)
	assert.True(t, strings.HasPrefix(msg, "visengine: "), msg)
	if !bytes.Contains(body, []byte("visengine: ")) { // a server may write it: it stays on the same line
		assert.Equal(t, 1, strings.Count(msg, "visengine: "), "one prefix: %q", msg)
	}
	assert.LessOrEqual(t, len(msg), 1024)
	for _, canary := range []string{canaryCF, canaryMail, canaryPhone, canaryPass, canaryQuery, "<script", "evil.example"} {
		assert.NotContains(t, msg, canary)
	}
	var env struct {
		Message *string `json:"message"`
	}
	var apiErr *APIError
	if json.Unmarshal(body, &env) == nil && env.Message != nil && errors.As(err, &apiErr) && !apiErr.unexpected {
		assert.Equal(t, *env.Message, apiErr.Message, "Message is the server's text as sent")
	}
}

// TestHostileCallbacks posts every file of testdata/hostile/callbacks,
// twice, to a handler that reads back from an API knowing one richiesta.
func TestHostileCallbacks(t *testing.T) {
	secret := strings.Repeat("0123456789abcdef", 4)
	api := newTruthAPI(t)
	api.set(cbID, StatoInErogazione)
	c := newTestClient(t, api.URL)
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "callbacks", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	replacer := strings.NewReplacer("${SECRET}", secret, "${SECRET_PREFIX}", secret[:MinCallbackSecretLen],
		"${SECRET_UPPER}", strings.ToUpper(secret), "${ID}", cbID)
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			want, err := strconv.Atoi(name[:3])
			require.NoError(t, err, "the file name starts with the expected status")
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			body, ctype := replacer.Replace(string(raw)), "application/json"
			if strings.HasSuffix(name, ".form.json") {
				body, ctype = url.Values{"data": {body}}.Encode(), "application/x-www-form-urlencoded"
			}
			rc := &recorder{}
			h := mustHandler(t, rc.fn, WithCallbackSecret(secret), WithCallbackClient(c))
			for i := range 2 {
				rec := httptestRecorder(h, ctype, body)
				assert.Equal(t, want, rec.Code, "post %d", i+1)
				assert.NotContains(t, rec.Body.String(), secret)
			}
			if want != http.StatusOK {
				assert.Zero(t, rc.calls())
				return
			}
			require.Equal(t, 1, rc.calls(), "the repeat is acknowledged without calling fn")
			ev := rc.last()
			assert.True(t, ev.FromAPI)
			assert.Equal(t, cbID, ev.Richiesta.ID)
			assert.Equal(t, StatoInErogazione, ev.Richiesta.StatoRichiesta)
			assert.Equal(t, "owner@caf.example", ev.Richiesta.Owner)
			assert.Empty(t, ev.Richiesta.Allegati)
			assert.Empty(t, ev.Richiesta.Ricerche)
		})
	}
}

func httptestRecorder(h http.Handler, ctype, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	h.ServeHTTP(rec, req)
	return rec
}
