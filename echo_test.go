package visengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileEchoes answers every file of testdata/hostile/echoes to a
// create carrying the applicant's values and to a read, and checks that no
// value the call sent, nor its token, reaches an error or a log.
func TestHostileEchoes(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "echoes", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	replacer := strings.NewReplacer("${CF}", canaryCF, "${CF_LOWER}", strings.ToLower(canaryCF),
		"${EMAIL}", canaryMail, "${PHONE}", canaryPhone, "${TOKEN}", canaryToken,
		"${TOKEN_UPPER}", strings.ToUpper(canaryToken), "${PAD}", strings.Repeat("x", 240))
	values := []string{canaryCF, canaryMail, canaryPhone, canaryCF[:8]}
	token := []string{canaryToken, canaryToken[:12]}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			t.Parallel()
			status, err := strconv.Atoi(name[:3])
			require.NoError(t, err, "the file name starts with the status")
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			body := replacer.Replace(string(raw))
			srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(body))
			})
			var logs bytes.Buffer
			c := newTestClient(t, srv.URL, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			ctx := context.Background()
			_, createErr := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b",
				JSONVisura: Values{"$2": canaryMail, "$3": canaryPhone, "$4": canaryCF}})
			_, getErr := c.GetRichiesta(ctx, cbID)
			// The read sent no values: only the token must go.
			for i, err := range []error{createErr, getErr} {
				forbidden := token
				if i == 0 {
					forbidden = append(values, token...)
				}
				require.Error(t, err)
				var apiErr *APIError
				require.True(t, errors.As(err, &apiErr), "%v", err)
				shown := strings.ToLower(strings.Join([]string{err.Error(), fmt.Sprintf("%+v", err),
					fmt.Sprintf("%#v", apiErr), apiErr.Message, logs.String()}, "\n"))
				for _, f := range forbidden {
					assert.NotContains(t, shown, strings.ToLower(f))
				}
			}
		})
	}
}

// A success's message (a dry run's) is scrubbed the same way.
func TestSuccessMessageScrubbed(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data": {}, "success": true, "message": "Test Request for ` + canaryCF + `, deleting", "error": null}`))
	})
	c := newTestClient(t, srv.URL)
	msg, err := c.callMessage(context.Background(), http.MethodPost, "/richiesta",
		map[string]any{"json_visura": map[string]string{"$4": canaryCF}}, nil)
	require.NoError(t, err)
	assert.Equal(t, "Test Request for [redacted], deleting", msg)
}

// TestSentStrings lists the values, not the keys, longest first.
func TestSentStrings(t *testing.T) {
	got := sentStrings([]byte(`{"hash_visura":"abc","json_visura":{"$0":"RSSMRA80A01H501U","$1":"si"},"x":["long value",1,null]}`))
	assert.Equal(t, []string{"RSSMRA80A01H501U", "long value", "abc"}, got)
	assert.Nil(t, sentStrings([]byte("not json")))
	assert.Equal(t, "a [redacted] b [redacted]", echoes{token: "Tok3n"}.scrub("a tok3n b TOK3N"))
}
