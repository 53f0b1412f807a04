package visengine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// BenchmarkSubmit compares Submit (local validation, free draft, paid close)
// on the fake with the same POST and PUT made by hand with net/http and a
// pool as large as the concurrency: what the SDK costs over the two
// requests themselves. "conc" is the number of submissions in flight. The
// machine is shared and its load moves, so each iteration runs a round of
// each contender in turn and the metrics compare them round by round:
// sdk is the default client, sdk-pool2 the same with net/http's default
// transport (2 idle connections per host, the SDK's default before), and
// sdk-nostall the default client without the stall watchdog
// (WithStallTimeout(0)), which shows what the watchdog costs.
//
//	go test -run '^$' -bench Submit -count 6
func BenchmarkSubmit(b *testing.B) {
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Micros(visengine.MaxPriceMicros / 2)))
	defer srv.Close()
	sdk, err := visengine.NewClient(srv.Token, visengine.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	pool2, err := visengine.NewClient(srv.Token, visengine.WithBaseURL(srv.URL),
		visengine.WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}))
	if err != nil {
		b.Fatal(err)
	}
	nostall, err := visengine.NewClient(srv.Token, visengine.WithBaseURL(srv.URL), visengine.WithStallTimeout(0))
	if err != nil {
		b.Fatal(err)
	}
	v, err := sdk.GetVisura(context.Background(), benchHashA2)
	if err != nil {
		b.Fatal(err)
	}
	values := benchApplicant()
	for _, conc := range []int{1, 16, 256} {
		b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxIdleConns: conc}}
			defer hc.CloseIdleConnections()
			h := handSubmitter{hc: hc, url: srv.URL, token: srv.Token}
			contenders := []struct {
				name string
				f    func() error
			}{
				{"sdk", func() error { _, err := sdk.Submit(context.Background(), v, values); return err }},
				{"sdk-pool2", func() error { _, err := pool2.Submit(context.Background(), v, values); return err }},
				{"hand", func() error { return h.submit(values) }},
				{"sdk-nostall", func() error { _, err := nostall.Submit(context.Background(), v, values); return err }},
			}
			spent := make([]time.Duration, len(contenders))
			round := max(2*conc, 64)
			for b.Loop() {
				for i, c := range contenders {
					spent[i] += runRound(b, conc, round, c.f)
				}
			}
			n := float64(b.N * round)
			for i, c := range contenders {
				b.ReportMetric(n/spent[i].Seconds(), c.name+"-submits/s")
			}
			b.ReportMetric(float64(spent[0])/float64(spent[2]), "sdk/hand")
		})
	}
}

// runRound makes n calls of f with conc in flight and returns how long
// they took.
func runRound(b *testing.B, conc, n int, f func() error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := f(); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

const benchHashA2 = "2631ec9b62135de4186f509fea7d954b"

// benchApplicant is a valid A2 applicant, as visenginetest's tests use.
func benchApplicant() visengine.Values {
	return visengine.Values{
		"$0": "Mario", "$1": "Rossi", "$2": "mario.rossi@example.it", "$3": "3331234567",
		"$4": "RSSMRA80A01H501U",
		"$5": visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.4 documento")),
		"$6": visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe0}),
	}
}

// handSubmitter makes Submit's two requests with net/http: POST a draft,
// read its _id, PUT state 1.
type handSubmitter struct {
	hc         *http.Client
	url, token string
}

func (h handSubmitter) submit(values visengine.Values) error {
	post, err := json.Marshal(map[string]any{"hash_visura": benchHashA2, "json_visura": values, "state": 0, "test": false})
	if err != nil {
		return err
	}
	var draft struct {
		Data struct {
			ID string `json:"_id"`
		} `json:"data"`
	}
	if err := h.do(http.MethodPost, "/richiesta", post, &draft); err != nil {
		return err
	}
	return h.do(http.MethodPut, "/richiesta/"+draft.Data.ID, []byte(`{"state":1}`), nil)
}

func (h handSubmitter) do(method, path string, body []byte, out any) error {
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, err)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
