package oauth

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/visengine-go/visengine"
)

// TestNilReceiversDoNotPanic calls every exported method of the package's
// pointer types on a nil and on a zero receiver, with zero arguments (a
// live context where one is taken): none may panic, and every call that
// returns an error returns one matching visengine.ErrInvalidArgument, as
// in the root package. (A value method called through a nil pointer panics
// in Go's own wrapper before our code runs; fmt and slog catch that.)
func TestNilReceiversDoNotPanic(t *testing.T) {
	receivers := []any{
		(*Client)(nil), &Client{}, (*TokenSource)(nil), &TokenSource{},
		(*FileTokenStore)(nil), &FileTokenStore{}, (*APIError)(nil), (*TokenInfo)(nil),
	}
	errType := reflect.TypeFor[error]()
	for _, recv := range receivers {
		rv := reflect.ValueOf(recv)
		for i := range rv.NumMethod() {
			m := rv.Type().Method(i)
			if m.Name == "Format" || isValueMethod(rv.Type().Elem(), m.Name) {
				continue
			}
			args := make([]reflect.Value, m.Type.NumIn()-1)
			for j := range args {
				at := m.Type.In(j + 1)
				args[j] = reflect.Zero(at)
				if at == reflect.TypeFor[context.Context]() {
					args[j] = reflect.ValueOf(context.Background())
				}
			}
			name := rv.Type().String() + "." + m.Name
			var out []reflect.Value
			call := rv.Method(i).Call
			if m.Type.IsVariadic() {
				call = rv.Method(i).CallSlice // the zero options slice as the last argument
			}
			if !assert.NotPanics(t, func() { out = call(args) }, name) {
				continue
			}
			for _, v := range out {
				if seq, ok := v.Interface().(iter.Seq2[Transaction, error]); ok {
					for _, err := range seq {
						assert.ErrorIs(t, err, visengine.ErrInvalidArgument, name)
					}
				}
			}
			for k, v := range out {
				if m.Type.Out(k) == errType && m.Name != "Unwrap" && !v.IsNil() {
					err := v.Interface().(error)
					assert.True(t, errors.Is(err, visengine.ErrInvalidArgument), "%s: %v", name, err)
				}
			}
		}
	}
}

// isValueMethod reports whether name is declared on the value type t, so
// that calling it through a nil *t panics in Go's wrapper.
func isValueMethod(t reflect.Type, name string) bool {
	_, ok := t.MethodByName(name)
	return ok
}
