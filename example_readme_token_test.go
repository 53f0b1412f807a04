package visengine_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// The README's "Getting a token" snippets, compiled and run here; see
// TestREADMEShowsTheSnippet.

// README begin

// clientFor returns a client that takes its token from the Openapi account,
// kept in tokenFile so that a restart reuses it.
func clientFor(account *oauth.Client, tokenFile string, opts ...visengine.Option) (*visengine.Client, error) {
	store, err := oauth.NewFileTokenStore(tokenFile) // written 0600
	if err != nil {
		return nil, err
	}
	ts, err := oauth.NewTokenSource(account, oauth.WithStore(store))
	if err != nil {
		return nil, err
	}
	// The token argument is "": the source supplies the token.
	return visengine.NewClient("", append(opts, visengine.WithTokenSource(ts))...)
}

// README end

// README begin

// submitBatch pays for one A2 filing with urgenza per applicant, checking
// the wallet first each time; it returns how many were submitted.
func submitBatch(ctx context.Context, c *visengine.Client, account *oauth.Client, batch []visengine.Values) (int, error) {
	v, err := c.GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b")
	if err != nil {
		return 0, err
	}
	for i, values := range batch {
		_, err := c.Submit(ctx, v, values, visengine.WithOpzioni("urgenza"), visengine.WithCreditCheck(account))
		if err != nil {
			// ErrInsufficientCredit and no *SubmitError: the check stopped it
			// before the draft, nothing was sent for batch[i]; top up, resume.
			return i, err
		}
	}
	return len(batch), nil
}

// README end

// The snippets work as written against the fake: a token made from the
// account and kept in a file, a batch that stops before the filing the
// wallet cannot pay.
func TestREADMETokenSnippets(t *testing.T) {
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Cents(50_00)))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	account, err := oauth.NewClient(srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	require.NoError(t, err)
	tokenFile := filepath.Join(t.TempDir(), "visengine-token.json")
	c, err := clientFor(account, tokenFile, visengine.WithBaseURL(srv.URL))
	require.NoError(t, err)

	a2, err := srv.Client().GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b")
	require.NoError(t, err)
	applicant := func(name string) visengine.Values {
		byLabel := readmeApplicant()
		byLabel["Nome"] = name
		values := visengine.Values{}
		for label, value := range byLabel {
			require.NoError(t, values.SetField(a2, label, value))
		}
		return values
	}
	n, err := submitBatch(ctx, c, account, []visengine.Values{applicant("Anna"), applicant("Bruno"), applicant("Carla")})
	require.ErrorIs(t, err, visengine.ErrInsufficientCredit)
	var se *visengine.SubmitError
	assert.False(t, errors.As(err, &se), "refused by the check, not by Visengine")
	assert.Equal(t, 2, n, "two at €24.00 from €50.00")
	count, total := srv.Charges()
	assert.Equal(t, 2, count)
	assert.Equal(t, "€48.00", total.String())
	drafts := 0
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/richiesta" {
			drafts++
		}
	}
	assert.Equal(t, 2, drafts, "no draft for the one the wallet cannot pay")
	assert.FileExists(t, tokenFile)

	// A restart reuses the stored token.
	c, err = clientFor(account, tokenFile, visengine.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.ListVisure(ctx)
	require.NoError(t, err)
	created := 0
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/oauth/v2/tokens" {
			created++
		}
	}
	assert.Equal(t, 1, created)
}
