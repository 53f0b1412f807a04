package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// A 401 looks the same for a wrong token and an expired one; the account
// knows which. explainUnauthorized asks it (when OPENAPI_EMAIL and
// OPENAPI_APIKEY are set) and says so, instead of the generic hint.

// tokenError is a refused token, with what the account says about it.
type tokenError struct {
	err     error
	verdict error // a sentence of cliText
}

func (e *tokenError) Error() string { return e.err.Error() + "; " + e.verdict.Error() }

func (e *tokenError) Unwrap() error { return e.err }

// explainUnauthorized returns err with why the token was refused, when err
// is a refusal of VISENGINE_TOKEN (not of the account's own key).
func (a *app) explainUnauthorized(ctx context.Context, err error) error {
	var apiErr *visengine.APIError
	if !errors.Is(err, visengine.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		return err
	}
	token := strings.TrimSpace(os.Getenv(envToken))
	if token == "" {
		return err
	}
	return &tokenError{err: err, verdict: a.tokenVerdict(ctx, token)}
}

// tokenVerdict says whether the account knows token and whether it expired.
func (a *app) tokenVerdict(ctx context.Context, token string) error {
	generic := msgErr("tokenGeneric")
	oc, err := a.account(false)
	if err != nil {
		return generic
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := oc.GetToken(ctx, token)
	switch {
	case errors.Is(err, visengine.ErrNotFound):
		return msgErr("tokenNotFound")
	case err != nil:
		return generic
	case !info.ExpiresAt.IsZero() && !info.ExpiresAt.After(time.Now()):
		return msgErr("tokenExpired", when(info.ExpiresAt))
	}
	return msgErr("tokenLive")
}

// checkBaseURL names VISENGINE_URL's own problem, so that it is not blamed
// on the token: a URL without a scheme ("127.0.0.1:8080") above all.
func checkBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	scheme, _, found := strings.Cut(raw, "://")
	if !found || scheme == "" || strings.ContainsAny(scheme, "./:") {
		return msgErr("noScheme", envURL)
	}
	return nil
}
