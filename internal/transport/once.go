package transport

import "context"

type onceKey struct{}

// Once marks ctx so that a call sent with it makes a single attempt:
// CheckRetry gives up after the first, whatever it got. A caller that is
// itself retried by someone else (a webhook handler, whose sender delivers
// again) uses it so that a 429 or 503 is passed back at once instead of
// being waited out while the sender's own request is held open.
func Once(ctx context.Context) context.Context {
	return context.WithValue(ctx, onceKey{}, true)
}

// isOnce reports whether ctx was marked by Once.
func isOnce(ctx context.Context) bool {
	once, _ := ctx.Value(onceKey{}).(bool)
	return once
}
