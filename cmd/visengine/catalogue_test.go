package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// One entry of the catalogue that cannot be read is reported, after the
// others are listed: it never hides them (issue 21).
func TestCatalogueKeepsGoodEntries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true,"message":"","error":null,"data":[
			{"nome_visura":"B","nome_categoria":"C","hash_visura":"bbb"},
			"odd",
			{"nome_visura":"A","nome_categoria":"C","hash_visura":"aaa"}]}`))
	}))
	defer srv.Close()
	c, err := visengine.NewClient("tok", visengine.WithBaseURL(srv.URL))
	require.NoError(t, err)
	list, err := catalogue(context.Background(), c, false)
	var le *visengine.ListError
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, []catalogueEntry{{HashVisura: "aaa", NomeCategoria: "C", NomeVisura: "A"},
		{HashVisura: "bbb", NomeCategoria: "C", NomeVisura: "B"}}, list)
}
