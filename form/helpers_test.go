package form_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/form"
	"github.com/visengine-go/visengine/visenginetest"
)

// hashA2 is "Domanda Esame A2 per Carta di Soggiorno".
const hashA2 = "2631ec9b62135de4186f509fea7d954b"

// env is a form mounted under /intake/ in front of a fake Visengine.
type env struct {
	t     *testing.T
	fake  *visenginetest.Server
	ts    *httptest.Server
	http  *http.Client // keeps cookies, does not follow redirects
	base  string       // ts.URL + "/intake/"
	posts atomic.Int32 // POSTs the form received
}

func newEnv(t *testing.T, hash string, opts ...form.Option) *env {
	t.Helper()
	return newEnvStep(t, hash, 50*time.Millisecond, opts...)
}

// newEnvStep is newEnv with the fake moving each richiesta on every step.
func newEnvStep(t *testing.T, hash string, step time.Duration, opts ...form.Option) *env {
	t.Helper()
	fake := visenginetest.NewServer(visenginetest.WithAutoAdvance(step))
	t.Cleanup(fake.Close)
	c := fake.Client()
	v, err := c.GetVisura(context.Background(), hash)
	require.NoError(t, err)
	opts = append([]form.Option{form.WithPollInterval(20 * time.Millisecond)}, opts...)
	h, err := form.New(c, v, opts...)
	require.NoError(t, err)
	e := &env{t: t, fake: fake}
	mux := http.NewServeMux()
	mux.Handle("/intake/", http.StripPrefix("/intake", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			e.posts.Add(1)
		}
		h.ServeHTTP(w, r)
	})))
	e.ts = httptest.NewServer(mux)
	t.Cleanup(e.ts.Close)
	jar, _ := cookiejar.New(nil)
	e.http = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.base = e.ts.URL + "/intake/"
	return e
}

// get fetches a page and parses it.
func (e *env) get(path string) (*http.Response, *html.Node) {
	e.t.Helper()
	resp, err := e.http.Get(e.base + path)
	require.NoError(e.t, err)
	return resp, parse(e.t, resp)
}

// parse reads and parses an HTML answer, checking it is well-formed.
func parse(t *testing.T, resp *http.Response) *html.Node {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	checkWellFormed(t, b)
	doc, err := html.Parse(bytes.NewReader(b))
	require.NoError(t, err)
	return doc
}

// checkWellFormed tokenizes the page and checks every non-void element is
// closed in order, the doctype is there, and html has lang: what
// html.Parse would silently repair.
func checkWellFormed(t *testing.T, b []byte) {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("<!DOCTYPE html>")), "doctype")
	z := html.NewTokenizer(bytes.NewReader(b))
	var stack []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			require.ErrorIs(t, z.Err(), io.EOF)
			require.Empty(t, stack, "unclosed elements")
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			require.NotEmpty(t, stack, "</%s> closes nothing", name)
			require.Equal(t, stack[len(stack)-1], string(name), "misnested </%s>", name)
			stack = stack[:len(stack)-1]
		}
	}
}

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// find returns the elements of doc for which match is true, in order.
func find(doc *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func byID(doc *html.Node, id string) *html.Node {
	ns := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
	if len(ns) == 0 {
		return nil
	}
	return ns[0]
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// inputValue returns the value of the input named name.
func inputValue(doc *html.Node, name string) string {
	for _, n := range find(doc, tag("input")) {
		if attr(n, "name") == name {
			return attr(n, "value")
		}
	}
	return ""
}

// a2Applicant is a complete A2 applicant by control id, files apart.
func a2Applicant() map[string]string {
	return map[string]string{"f0": "Mario", "f1": "Rossi", "f2": "mario.rossi@example.it",
		"f3": "3331234567", "f4": "RSSMRA80A01H501U"}
}

// upload is a file part.
type upload struct {
	field, name, mime string
	data              []byte
}

func pdf(field, name string) upload {
	return upload{field, name, "application/pdf", []byte("%PDF-1.4\n% " + name + "\n%%EOF\n")}
}

// multipartBody builds a form's body: fields, options, files and, unless
// csrf is "", the token.
func multipartBody(t testing.TB, csrf string, fields map[string]string, opzioni []string, files ...upload) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if csrf != "" {
		require.NoError(t, w.WriteField("csrf", csrf))
	}
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	for _, o := range opzioni {
		require.NoError(t, w.WriteField("opzione", o))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.mime)
		p, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = p.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return &buf, w.FormDataContentType()
}

// postForm gets the form (for its cookie and token), then posts fields.
func (e *env) postForm(fields map[string]string, opzioni []string, files ...upload) (*http.Response, *html.Node) {
	e.t.Helper()
	_, doc := e.get("")
	csrf := inputValue(doc, "csrf")
	require.NotEmpty(e.t, csrf)
	body, ct := multipartBody(e.t, csrf, fields, opzioni, files...)
	resp, err := e.http.Post(e.base, ct, body)
	require.NoError(e.t, err)
	return resp, parse(e.t, resp)
}

// confirm posts the confirmation form of a confirmation page.
func (e *env) confirm(doc *html.Node) *http.Response {
	e.t.Helper()
	vals := url.Values{"csrf": {inputValue(doc, "csrf")}, "form": {inputValue(doc, "form")}}
	resp, err := e.http.PostForm(e.base+"confirm", vals)
	require.NoError(e.t, err)
	return resp
}

func a2Files() []upload {
	return []upload{pdf("f5", "documento.pdf"), pdf("f6", "codice-fiscale.pdf")}
}

// charges counts the fake's charges.
func (e *env) charges() int {
	n, _ := e.fake.Charges()
	return n
}

var _ = visengine.Italian

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// runtimeMem reads the total bytes allocated so far.
type runtimeMem struct{ alloc uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.alloc = s.TotalAlloc
}
