package visengine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visengine-go/visengine/internal/benchutil"
)

// The decoding benchmarks run the SDK's whole response path (request,
// retry policy, reading and decoding the body) against a canned transport,
// and compare it, in the same run and on the same bytes, with
// encoding/json decoding the body into a plain struct: the cost of the
// SDK's lenient decoding over a straightforward one.
//
//	go test -run '^$' -bench 'Decode|ListRichieste|LargeAnswer|Catalogue|Structure|WaitPoll' -benchmem -count 6

// cannedClient returns a client whose transport answers every request with
// status and the next of bodies (the last one repeats), without a network.
func cannedClient(tb testing.TB, status int, bodies ...[]byte) *Client {
	tb.Helper()
	var n atomic.Int64
	rt := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		i := min(int(n.Add(1))-1, len(bodies)-1)
		return &http.Response{
			StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(bodies[i])), ContentLength: int64(len(bodies[i])), Request: r,
		}, nil
	})
	return newTestClient(tb, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: rt}))
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// phpJSON encodes v as PHP's json_encode does by default: "/" escaped.
func phpJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.ReplaceAll(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("/"), []byte(`\/`))
}

// benchID is the _id of the benchmarks' richieste.
const benchID = "5f22f722065afc42223c7131"

// richiestaWire is an A2 richiesta as Visengine's PHP backend sends it, with
// `files` scans of size bytes each in json_ricerca (JSON in a string) and
// in json_mappato, and nRicerche further small searches.
func richiestaWire(files, size, nRicerche int, stato string) map[string]any {
	rng := rand.NewChaCha8([32]byte{7})
	values := map[string]string{"$0": "Mario", "$1": "Rossi", "$2": "mario.rossi@example.it", "$3": "3331234567", "$4": "RSSMRA80A01H501U"}
	mapped := map[string]string{"Nome": "Mario", "Cognome": "Rossi", "Email": "mario.rossi@example.it", "CELLULARE": "3331234567", "CODICE FISCALE": "RSSMRA80A01H501U"}
	for i := range files {
		scan := make([]byte, size)
		_, _ = rng.Read(scan)
		v := fmt.Sprintf("scan%d.pdf|data:application/pdf;base64,%s", i, base64.StdEncoding.EncodeToString(scan))
		values["$"+strconv.Itoa(5+i)] = v
		mapped["DOCUMENTO "+strconv.Itoa(i)] = v
	}
	ricerche := []any{map[string]any{"id_ricerca": benchID + "_0", "stato_ricerca": "", "json_ricerca": string(phpJSON(values)),
		"json_mappato": mapped, "json_risultato": nil}}
	for i := range nRicerche {
		small := map[string]string{"$0": fmt.Sprintf("RSSMRA80A%02dH501U", i%100)}
		ricerche = append(ricerche, map[string]any{"id_ricerca": fmt.Sprintf("%s_%d", benchID, i+1), "stato_ricerca": "Errore su richiesta dati",
			"json_ricerca": string(phpJSON(small)), "json_mappato": map[string]string{"CODICE FISCALE": small["$0"]}, "json_risultato": nil})
	}
	return map[string]any{
		"_id": benchID, "state": 1, "hash_visura": "2631ec9b62135de4186f509fea7d954b", "nome": "Domanda Esame A2 per Carta di Soggiorno",
		"callback": "_rib_a2", "ricerca": false, "id_ricerca": nil, "prezzo_visura": 20, "prezzo_ricerca": 0, "indice_ricerca": nil,
		"stato_richiesta": stato, "email_target": nil, "allegati": []string{}, "timestamp_creation": 1596127010,
		"timestamp_last_update": 1596127022, "timestamp_stati": map[string]int{"in_erogazione": 1596127010},
		"callback_data": false, "opzioni": []map[string]any{{"tipo": "urgenza", "prezzo": 4, "nome": "opzione_0"}},
		"owner": "caf@example.it", "sincrona": false, "ricerche": ricerche, "esito": map[string]string{"codice": "0", "info": "OK"},
	}
}

// envelopeOf wraps data in a successful envelope, PHP style.
func envelopeOf(data any) []byte {
	return phpJSON(map[string]any{"data": data, "success": true, "message": "", "error": nil})
}

// plainRichiesta is the baseline: the same wire decoded by encoding/json
// into string fields, with none of the SDK's leniency.
type plainRichiesta struct {
	Data struct {
		ID                  string            `json:"_id"`
		State               int               `json:"state"`
		HashVisura          string            `json:"hash_visura"`
		Nome                string            `json:"nome"`
		Callback            string            `json:"callback"`
		Ricerca             bool              `json:"ricerca"`
		IDRicerca           *string           `json:"id_ricerca"`
		PrezzoVisura        json.Number       `json:"prezzo_visura"`
		PrezzoRicerca       json.Number       `json:"prezzo_ricerca"`
		IndiceRicerca       *int              `json:"indice_ricerca"`
		StatoRichiesta      string            `json:"stato_richiesta"`
		EmailTarget         *string           `json:"email_target"`
		Allegati            []string          `json:"allegati"`
		TimestampCreation   int64             `json:"timestamp_creation"`
		TimestampLastUpdate int64             `json:"timestamp_last_update"`
		TimestampStati      map[string]int64  `json:"timestamp_stati"`
		CallbackData        json.RawMessage   `json:"callback_data"`
		Opzioni             []plainOpzione    `json:"opzioni"`
		Owner               string            `json:"owner"`
		Sincrona            bool              `json:"sincrona"`
		Ricerche            []plainRicerca    `json:"ricerche"`
		Esito               map[string]string `json:"esito"`
	} `json:"data"`
	Success bool   `json:"success"`
	Message string `json:"message"`
	Error   *int   `json:"error"`
}

type plainOpzione struct {
	Tipo   string      `json:"tipo"`
	Prezzo json.Number `json:"prezzo"`
	Nome   string      `json:"nome"`
}

type plainRicerca struct {
	IDRicerca     string            `json:"id_ricerca"`
	StatoRicerca  string            `json:"stato_ricerca"`
	JSONRicerca   string            `json:"json_ricerca"`
	JSONMappato   map[string]string `json:"json_mappato"`
	JSONRisultato *string           `json:"json_risultato"`
}

// plainSummary is the baseline for a list entry.
type plainSummary struct {
	ID                  string      `json:"_id"`
	State               int         `json:"state"`
	HashVisura          string      `json:"hash_visura"`
	Nome                string      `json:"nome"`
	Ricerca             bool        `json:"ricerca"`
	IDRicerca           *string     `json:"id_ricerca"`
	PrezzoVisura        json.Number `json:"prezzo_visura"`
	PrezzoRicerca       json.Number `json:"prezzo_ricerca"`
	IndiceRicerca       *int        `json:"indice_ricerca"`
	StatoRichiesta      string      `json:"stato_richiesta"`
	EmailTarget         *string     `json:"email_target"`
	TimestampCreation   int64       `json:"timestamp_creation"`
	TimestampLastUpdate int64       `json:"timestamp_last_update"`
	Owner               string      `json:"owner"`
	Sincrona            bool        `json:"sincrona"`
}

// plainDecode is the baseline's decode, with a check that it read the data.
func plainDecode[T any](b *testing.B, body []byte) {
	var out struct {
		Data    T      `json:"data"`
		Success bool   `json:"success"`
		Message string `json:"message"`
		Error   *int   `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil || !out.Success {
		b.Fatalf("baseline: %v", err)
	}
}

// peakRatio runs f once and returns its peak heap as a multiple of the
// body's size, to report after the timed loop (b.Loop clears metrics).
func peakRatio(body []byte, f func()) float64 {
	return float64(benchutil.PeakHeap(f)) / float64(len(body))
}

func BenchmarkDecodeRichiesta(b *testing.B) {
	for _, tc := range []struct {
		name        string
		files, size int
	}{{"3x100KiB", 3, 100 << 10}, {"3x1MiB", 3, 1 << 20}} {
		body := envelopeOf(richiestaWire(tc.files, tc.size, 0, string(StatoInErogazione)))
		b.Run(tc.name+"/sdk", func(b *testing.B) {
			c := cannedClient(b, http.StatusOK, body)
			get := func() {
				r, err := c.GetRichiesta(context.Background(), benchID)
				if err != nil || len(r.Ricerche) != 1 {
					b.Fatalf("GetRichiesta: %v", err)
				}
			}
			peak := peakRatio(body, get)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				get()
			}
			b.ReportMetric(peak, "peak/body")
		})
		b.Run(tc.name+"/ref", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var r refRichiesta
				refDecode(b, body, &r)
			}
		})
		b.Run(tc.name+"/plain", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var out plainRichiesta
				if err := json.Unmarshal(body, &out); err != nil || len(out.Data.Ricerche) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}

// listWire is GET /richiesta's data with n entries shaped like the spec's.
func listWire(n int) []any {
	list := make([]any, n)
	stati := []string{"Visura evasa", "In erogazione", "Dati disponibili", "Annullata"}
	for i := range list {
		id := fmt.Sprintf("5f22f722065afc4222%06x", i)
		e := map[string]any{"_id": id, "state": 1, "hash_visura": "f3a0979f15915b337aafabcd89c5ee70", "nome": "Cariche Societarie",
			"ricerca": false, "id_ricerca": nil, "prezzo_visura": 5, "prezzo_ricerca": 0, "indice_ricerca": nil,
			"stato_richiesta": stati[i%len(stati)], "email_target": nil, "timestamp_creation": 1596127010 + i,
			"timestamp_last_update": 1596127022 + i, "owner": "a.venanzoni@altravia.com", "sincrona": false}
		if i%3 == 0 {
			e["hash_visura"], e["nome"], e["ricerca"], e["prezzo_visura"], e["prezzo_ricerca"] =
				"afa0b4cu7yd06226i5d89p00077c3j6t", "Visura Camerale Ordinaria", true, 4.78, 0.38
			e["id_ricerca"], e["indice_ricerca"], e["email_target"] = id+"_0", 1, "ufficio@example.it"
		}
		list[i] = e
	}
	return list
}

func BenchmarkListRichieste(b *testing.B) {
	const n = 10_000
	body := envelopeOf(listWire(n))
	b.Run("10000/sdk", func(b *testing.B) {
		c := cannedClient(b, http.StatusOK, body)
		list := func() {
			l, err := c.ListRichieste(context.Background())
			if err != nil || len(l) != n {
				b.Fatalf("ListRichieste: %d, %v", len(l), err)
			}
		}
		peak := peakRatio(body, list)
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			list()
		}
		b.ReportMetric(peak, "peak/body")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
	})
	b.Run("10000/ref", func(b *testing.B) {
		list := func() {
			var raw []json.RawMessage
			refDecode(b, body, &raw)
			for _, r := range raw {
				if e := refDecodeListEntry(r); e.err != nil {
					b.Fatal(e.err)
				}
			}
		}
		peak := peakRatio(body, list)
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			list()
		}
		b.ReportMetric(peak, "peak/body")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
	})
	b.Run("10000/plain", func(b *testing.B) {
		peak := peakRatio(body, func() { plainDecode[[]plainSummary](b, body) })
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			plainDecode[[]plainSummary](b, body)
		}
		b.ReportMetric(peak, "peak/body")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
	})
}

// largeAnswer is GET /richiesta/{id} of about size bytes: a richiesta
// with small searches, about 250 bytes each, as many as it takes.
func largeAnswer(size int) []byte {
	one := len(envelopeOf(richiestaWire(0, 0, 1, "In ricerca"))) - len(envelopeOf(richiestaWire(0, 0, 0, "In ricerca")))
	return envelopeOf(richiestaWire(0, 0, size/one, "In ricerca"))
}

// BenchmarkLargeAnswer checks that time and peak heap grow linearly with the
// answer, up to the body cap: MB/s and peak/body should not move with size.
func BenchmarkLargeAnswer(b *testing.B) {
	for _, mb := range []int{1, 10, 60} {
		body := largeAnswer(mb << 20)
		b.Run(strconv.Itoa(mb)+"MB", func(b *testing.B) {
			c := cannedClient(b, http.StatusOK, body)
			get := func() {
				if _, err := c.GetRichiesta(context.Background(), benchID); err != nil {
					b.Fatal(err)
				}
			}
			peak := peakRatio(body, get)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				get()
			}
			b.ReportMetric(peak, "peak/body")
		})
	}
}

// BenchmarkDecodeDeadline measures how long GetRichiesta takes to return
// once its context's deadline passes in the middle of decoding a 63 MB
// answer with about 250,000 searches: "late-ms" is the time from the
// deadline to the return; "decode-ms" is how long the same answer takes
// without a deadline, and the deadline falls at half of it.
func BenchmarkDecodeDeadline(b *testing.B) {
	body := largeAnswer(63_000_000)
	c := cannedClient(b, http.StatusOK, body)
	start := time.Now()
	if _, err := c.GetRichiesta(context.Background(), benchID); err != nil {
		b.Fatal(err)
	}
	full := time.Since(start)
	var late time.Duration // the longest wait past the deadline
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), full/2)
		start := time.Now()
		_, err := c.GetRichiesta(ctx, benchID)
		late = max(late, time.Since(start)-full/2)
		cancel()
		if err == nil {
			b.Logf("decoded before the deadline (%v)", full/2)
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			b.Fatalf("error without the deadline: %v", err)
		}
	}
	b.ReportMetric(float64(full.Microseconds())/1000, "decode-ms")
	b.ReportMetric(float64(late.Microseconds())/1000, "late-ms")
}

// decodeOnly runs the SDK's response path on body without a client: the
// envelope and the data into out.
func decodeOnly(b *testing.B, body []byte, out any) {
	if _, err := interpret(context.Background(), http.StatusOK, bytes.NewReader(body), maxResponseBody, out); err != nil {
		b.Fatal(err)
	}
}

// refDecode runs the decoder this one replaced (ref_decoder_test.go), the
// body read whole first as it did.
func refDecode(b *testing.B, body []byte, out any) {
	raw, err := io.ReadAll(bytes.NewReader(body))
	if _, err := refInterpret(http.StatusOK, raw, err, maxResponseBody, out); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCatalogue decodes the 92-entry catalogue (GET /visure): sdk is
// the response path, ref the decoder it replaced, plain encoding/json into
// plain structs.
func BenchmarkCatalogue(b *testing.B) {
	body := readTestdata(b, "spec/get_visure_200.json")
	b.Run("sdk", func(b *testing.B) {
		for b.Loop() {
			var out visureList
			decodeOnly(b, body, &out)
		}
	})
	b.Run("ref", func(b *testing.B) {
		for b.Loop() {
			var out []VisuraSummary
			refDecode(b, body, &out)
		}
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			plainDecode[[]struct {
				NomeVisura    string `json:"nome_visura"`
				NomeCategoria string `json:"nome_categoria"`
				HashVisura    string `json:"hash_visura"`
			}](b, body)
		}
	})
}

// plainVisura is the baseline for a service's structure.
type plainVisura struct {
	HashVisura    string `json:"hash_visura"`
	NomeVisura    string `json:"nome_visura"`
	NomeCategoria string `json:"nome_categoria"`
	JSONStruttura struct {
		Campi map[string]struct {
			Nome       string          `json:"nome"`
			Tipo       string          `json:"tipo"`
			Null       bool            `json:"null"`
			Ordine     string          `json:"ordine"`
			Istruzioni string          `json:"istruzioni"`
			Opzioni    json.RawMessage `json:"opzioni"`
		} `json:"campi"`
		Validazione       string `json:"validazione"`
		Istruzioni        string `json:"istruzioni"`
		IstruzioniRicerca string `json:"istruzioni_ricerca"`
	} `json:"json_struttura"`
	Ricerca       bool            `json:"ricerca"`
	PrezzoVisura  json.Number     `json:"prezzo_visura"`
	PrezzoRicerca json.Number     `json:"prezzo_ricerca"`
	Sincrona      bool            `json:"sincrona"`
	Opzioni       []plainOpzione  `json:"opzioni"`
	Fornitori     json.RawMessage `json:"fornitori"`
}

// BenchmarkStructure decodes the A2 structure (GET /visure/{hash}), its
// rule compiled included.
func BenchmarkStructure(b *testing.B) {
	body := readTestdata(b, "visura_a2.json")
	b.Run("sdk", func(b *testing.B) {
		for b.Loop() {
			var v Visura
			decodeOnly(b, body, &v)
		}
	})
	b.Run("ref", func(b *testing.B) {
		for b.Loop() {
			var v Visura
			refDecode(b, body, &v)
		}
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			plainDecode[plainVisura](b, body)
		}
	})
}

// BenchmarkWaitPoll compares one poll of Wait on a richiesta with three
// 1 MiB scans (ns/poll) with one GetRichiesta of the same answer.
func BenchmarkWaitPoll(b *testing.B) {
	const polls = 8
	pending := envelopeOf(richiestaWire(3, 1<<20, 0, string(StatoInErogazione)))
	ready := envelopeOf(richiestaWire(3, 1<<20, 0, string(StatoDatiDisponibili)))
	b.Run("wait", func(b *testing.B) {
		bodies := make([][]byte, polls)
		for i := range bodies {
			bodies[i] = pending
		}
		bodies[polls-1] = ready
		for b.Loop() {
			c := cannedClient(b, http.StatusOK, bodies...)
			r, err := c.Wait(context.Background(), benchID, WithPollInterval(time.Nanosecond, time.Nanosecond))
			if err != nil || !r.DocumentReady() {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*polls), "ns/poll")
	})
	b.Run("get", func(b *testing.B) {
		c := cannedClient(b, http.StatusOK, pending)
		for b.Loop() {
			if _, err := c.GetRichiesta(context.Background(), benchID); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/poll")
	})
}
