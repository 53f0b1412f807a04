package transport

import (
	"context"
	"errors"
	"strings"
)

// TokenFunc returns the bearer token for one attempt. The client asks for it
// on every attempt, so a provider that renews tokens is heard by the next
// retry. NewClient fills it with StaticToken; a token source plugs in here.
// It must be safe for concurrent use, and its errors must not contain the
// token.
type TokenFunc func(ctx context.Context) (string, error)

// StaticToken returns a TokenFunc that always gives token.
func StaticToken(token string) TokenFunc {
	return func(context.Context) (string, error) { return token, nil }
}

// CheckToken says why token cannot go in an Authorization header: it is
// empty, or holds blanks, control or non-ASCII characters (a line break
// would let it forge headers). The error never contains the token.
func CheckToken(token string) error {
	if token == "" {
		return errors.New("empty token")
	}
	if strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }) >= 0 {
		return errors.New("token contains blanks, control or non-ASCII characters")
	}
	return nil
}

// tokenError is an attempt stopped because no usable token could be had.
// It is permanent for the retry policy: the next attempt would ask the same
// provider at once.
type tokenError struct{ err error }

// Error names the provider's error without its "visengine: " prefix, if
// it has one (package oauth's do): the message is embedded in the call's,
// which has its own.
func (e *tokenError) Error() string {
	return "no token: " + strings.TrimPrefix(e.err.Error(), "visengine: ")
}

func (e *tokenError) Unwrap() error { return e.err }
