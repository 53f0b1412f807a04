package visengine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Canaries planted into the personal-data fields of fuzzed richieste.
const (
	canaryOwner   = "zq7owner@canary.example"
	canaryEmail   = "zq7target@canary.example"
	canaryMappato = "ZQ7MAPPATO0CANARY"
)

// FuzzDecodeRichiesta feeds arbitrary JSON to the richiesta decoders: they
// must never panic, and once owner, email_target and json_mappato carry
// canaries, no fmt verb on what was decoded may print them.
func FuzzDecodeRichiesta(f *testing.F) {
	for _, name := range []string{"spec/get_richiesta_id_200.json", "spec/post_richiesta_200.json", "spec/get_richiesta_200.json",
		"spec/put_richiesta_id_ricerche_200.json", "spec/post_richiesta_id_200.json"} {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(readTestdata(f, name), &env) != nil {
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(env.Data, &list) != nil {
			list = []json.RawMessage{env.Data}
		}
		for _, item := range list {
			f.Add([]byte(item))
		}
	}
	for _, php := range []string{`false`, `null`, `[]`, `{}`, `0`, `"x"`} {
		for _, key := range []string{"callback_data", "email_target", "allegati", "ricerche", "esito", "timestamp_stati", "opzioni", "owner"} {
			f.Add([]byte(richiestaWith(key, php)))
		}
	}
	f.Add([]byte(richiestaWith("ricerche", `[{"id_ricerca":"a_0","json_ricerca":{"$0":"x"},"json_mappato":[],"json_risultato":{"indice_0":{}}}]`)))
	f.Add([]byte(richiestaWith("callback_data", `{"url":"https://x.it/cb","method":"POST","field":"d","data":[]}`)))

	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAndFormat(t, data, "")
		low := bytes.ToLower(data)
		for _, c := range []string{canaryOwner, canaryEmail, canaryMappato} {
			if bytes.Contains(low, []byte(strings.ToLower(c))) {
				return
			}
		}
		var m map[string]any
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		m["owner"] = canaryOwner
		m["email_target"] = canaryEmail
		mapped := map[string]any{"$0": canaryMappato, "$1": map[string]any{"nome": canaryMappato}}
		if list, ok := m["ricerche"].([]any); ok {
			for _, it := range list {
				if r, ok := it.(map[string]any); ok {
					r["json_mappato"] = mapped
				}
			}
		} else {
			m["ricerche"] = []any{map[string]any{"id_ricerca": "x_0", "json_mappato": mapped}}
		}
		planted, err := json.Marshal(m)
		if err != nil {
			return
		}
		decodeAndFormat(t, planted, canaryOwner, canaryEmail, canaryMappato)
	})
}

// decodeAndFormat decodes data as a Richiesta and a RichiestaSummary and
// prints them with every verb; none of the canaries may show.
func decodeAndFormat(t *testing.T, data []byte, canaries ...string) {
	t.Helper()
	var r Richiesta
	rErr := json.Unmarshal(data, &r)
	var s RichiestaSummary
	sErr := json.Unmarshal(data, &s)
	// A list entry has fewer keys: a shape refused in one of the others
	// fails the richiesta only.
	if (rErr == nil) != (sErr == nil) && !(sErr == nil && newlyRefused(rErr)) {
		t.Fatalf("Richiesta and RichiestaSummary disagree: %v / %v", rErr, sErr)
	}
	if rErr != nil {
		return
	}
	if s.ID != r.ID || s.State != r.State || s.Owner != r.Owner || s.EmailTarget != r.EmailTarget {
		t.Fatalf("summary differs from richiesta")
	}
	values := []any{r, &r, s, &s}
	for _, rc := range r.Ricerche {
		values = append(values, rc)
	}
	if r.CallbackData != nil {
		values = append(values, r.CallbackData)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range values {
			out := fmt.Sprintf(verb, v)
			for _, c := range canaries {
				if c != "" && strings.Contains(out, c) {
					t.Fatalf("%s of %T prints canary %q: %s", verb, v, c, out)
				}
			}
		}
	}
}
