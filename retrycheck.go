package visengine

import (
	"net/http"
	"reflect"

	"github.com/hashicorp/go-retryablehttp"
)

var (
	roundTripperType   = reflect.TypeFor[http.RoundTripper]()
	retryingTripper    = reflect.TypeFor[*retryablehttp.RoundTripper]()
	retryingHTTPClient = reflect.TypeFor[*retryablehttp.Client]()
)

// retriesOnItsOwn reports whether rt is, or wraps, a transport known to
// resend requests by itself: go-retryablehttp's RoundTripper (or a wrapper
// holding its Client). Wrappers are looked into through their fields that
// are round trippers, a few levels deep: a cheap check, not a proof, since
// any transport could replay a body.
func retriesOnItsOwn(rt http.RoundTripper) bool {
	return holdsRetrier(reflect.ValueOf(rt), 0)
}

func holdsRetrier(v reflect.Value, depth int) bool {
	if !v.IsValid() || depth > 4 {
		return false
	}
	switch v.Kind() {
	case reflect.Interface:
		return !v.IsNil() && holdsRetrier(v.Elem(), depth)
	case reflect.Pointer:
		if v.Type() == retryingTripper || v.Type() == retryingHTTPClient {
			return !v.IsNil()
		}
		return !v.IsNil() && v.Elem().Kind() == reflect.Struct && holdsRetrier(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			wraps := f.Type() == roundTripperType || f.Type() == retryingHTTPClient ||
				f.Kind() == reflect.Pointer && f.Type().Implements(roundTripperType)
			if wraps && holdsRetrier(f, depth) {
				return true
			}
		}
	}
	return false
}
