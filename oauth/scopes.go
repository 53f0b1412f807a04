package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// Hosts of Visengine's two environments, as its scopes name them.
const (
	VisengineHost        = "visengine2.altravia.com"
	VisengineSandboxHost = "test.visengine2.altravia.com"
)

// visengineCalls are the scopes of the calls the visengine package makes,
// method and first path segment. DELETE /richiesta, /fornitori and
// /conservatorie also exist as scopes but are legacy, undocumented, and
// never called by the SDK; asking for a scope the account does not have
// enabled can fail the whole creation (v2 error 90), so they are left out.
var visengineCalls = []struct{ method, segment string }{
	{http.MethodGet, "visure"},
	{http.MethodGet, "richiesta"},
	{http.MethodPost, "richiesta"},
	{http.MethodPut, "richiesta"},
	{http.MethodGet, "documento"},
}

// VisengineScopes returns every scope a visengine.Client needs: read the
// catalogue (GET /visure), create, update, close and read richieste (POST,
// PUT, GET /richiesta) and download documents (GET /documento). In the
// sandbox the host is test.visengine2.altravia.com, as Openapi expects.
func VisengineScopes(sandbox bool) []string {
	return visengineScopes(sandbox, false)
}

// VisengineReadOnlyScopes returns the GET scopes only: catalogue,
// richieste and documents can be read, nothing can be bought. Give them
// to a dashboard or a worker that only downloads.
func VisengineReadOnlyScopes(sandbox bool) []string {
	return visengineScopes(sandbox, true)
}

func visengineScopes(sandbox, readOnly bool) []string {
	host := VisengineHost
	if sandbox {
		host = VisengineSandboxHost
	}
	var out []string
	for _, c := range visengineCalls {
		if !readOnly || c.method == http.MethodGet {
			out = append(out, c.method+":"+host+"/"+c.segment)
		}
	}
	return out
}

// Scope is a scope the account can put in its tokens.
type Scope struct {
	Scope    string // "METHOD:host/segment"
	Method   string // "GET"
	Domain   string // "visengine2.altravia.com"
	Endpoint string // the first path segment, "visure"
	ID       string // v2: the scope's id
	Enabled  bool   // v2: whether the account may use it; v1 lists only scopes the account has, so true
}

// ListScopes returns the scopes of the account: GET /scopes. v2 describes
// each one; v1 gives only the "METHOD:host/segment" strings, from which
// Method, Domain and Endpoint are filled in.
func (c *Client) ListScopes(ctx context.Context) ([]Scope, error) {
	r := request{method: http.MethodGet, path: "/scopes", route: "/scopes"}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	out, err := decodeScopes(resp.body)
	if err != nil {
		return nil, c.unexpected(r, resp.status, "decoding scopes: %s", describeJSONError(err))
	}
	return out, nil
}

// decodeScopes reads a list of scope objects (v2) or strings (v1), under
// "data" or, as v1's example has it, under "data" twice.
func decodeScopes(body []byte) ([]Scope, error) {
	raw, err := payload(body)
	if err == nil && strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		raw, err = payload(raw)
	}
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]Scope, 0, len(list))
	for _, item := range list {
		s, err := decodeScope(item)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeScope(item json.RawMessage) (Scope, error) {
	var name string
	if json.Unmarshal(item, &name) == nil {
		s := Scope{Scope: name, Enabled: true}
		s.Method, s.Domain, s.Endpoint = splitScopeName(name)
		return s, nil
	}
	var w struct {
		ID       string `json:"id"`
		Scope    string `json:"scope"`
		Method   string `json:"method"`
		Endpoint string `json:"endpoint"`
		Domain   string `json:"domain"`
		Enabled  *bool  `json:"enabled"`
	}
	if err := json.Unmarshal(item, &w); err != nil {
		return Scope{}, err
	}
	s := Scope{ID: w.ID, Scope: w.Scope, Method: w.Method, Domain: w.Domain, Endpoint: w.Endpoint, Enabled: w.Enabled == nil || *w.Enabled}
	if m, d, e := splitScopeName(w.Scope); s.Method == "" && s.Domain == "" && s.Endpoint == "" {
		s.Method, s.Domain, s.Endpoint = m, d, e
	}
	return s, nil
}

// splitScopeName splits "METHOD:host/segment"; a malformed name gives
// empty parts.
func splitScopeName(s string) (method, domain, endpoint string) {
	method, rest, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", ""
	}
	domain, endpoint, _ = strings.Cut(rest, "/")
	return method, domain, endpoint
}
