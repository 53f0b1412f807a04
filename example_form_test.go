package visengine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/form"
	"github.com/visengine-go/visengine/visenginetest"
)

// README begin

// intakeA2 serves the A2 intake form under /a2/ on mux; store keeps what
// was paid (the richiesta's id with the applicant), once per form.
func intakeA2(ctx context.Context, c *visengine.Client, mux *http.ServeMux, store func(context.Context, form.Paid) error) error {
	v, err := c.GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b")
	if err != nil {
		return err
	}
	h, err := form.New(c, v, form.WithOnPaid(store)) // Italian; form.WithLang(visengine.English)
	if err != nil {
		return err
	}
	mux.Handle("/a2/", http.StripPrefix("/a2", h))
	return nil
}

// README end

// The README's form snippet serves the A2 page.
func TestREADMEFormSnippet(t *testing.T) {
	srv := visenginetest.NewServer()
	defer srv.Close()
	mux := http.NewServeMux()
	require.NoError(t, intakeA2(context.Background(), srv.Client(), mux, func(context.Context, form.Paid) error { return nil }))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/a2/", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `<label for="f3">CELLULARE`)
}
