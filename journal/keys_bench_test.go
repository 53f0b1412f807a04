package journal_test

import (
	"fmt"
	"testing"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// BenchmarkSubmitKey is the cost of an idempotency key: Submit of one
// applicant on the fake, without a key and with a new key each time, with
// no journal (the key goes to the client's memory), a directory journal
// and PostgreSQL; and the replay of a key already paid (no POST, one GET).
//
//	go test -run - -bench SubmitKey -benchtime 200x ./journal
func BenchmarkSubmitKey(b *testing.B) {
	journals := []struct {
		name string
		open func(b *testing.B) []visengine.Option
	}{
		{"none", func(*testing.B) []visengine.Option { return nil }},
		{"dir", func(b *testing.B) []visengine.Option {
			d, err := journal.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = d.Close() })
			return []visengine.Option{visengine.WithJournal(d)}
		}},
		{"postgres", func(b *testing.B) []visengine.Option {
			p, err := journal.OpenPostgres(ctx, openPool(b, pgtest.Start(b)))
			if err != nil {
				b.Fatal(err)
			}
			return []visengine.Option{visengine.WithJournal(p)}
		}},
	}
	for _, j := range journals {
		for _, mode := range []string{"nokey", "key", "replay"} {
			b.Run(j.name+"/"+mode, func(b *testing.B) { benchSubmit(b, mode, j.open(b)) })
		}
	}
}

func benchSubmit(b *testing.B, mode string, opts []visengine.Option) {
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Price(1) << 50))
	b.Cleanup(srv.Close)
	c := srv.Client(opts...)
	v, err := c.GetVisura(ctx, hashOrdinaria)
	if err != nil {
		b.Fatal(err)
	}
	values := applicantValues(1)
	if mode == "replay" {
		if _, err := c.Submit(ctx, v, values, visengine.WithIdempotencyKey("paid")); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		var opts []visengine.SubmitOption
		switch mode {
		case "key":
			opts = append(opts, visengine.WithIdempotencyKey(fmt.Sprint("applicant-", i)))
		case "replay":
			opts = append(opts, visengine.WithIdempotencyKey("paid"))
		}
		if _, err := c.Submit(ctx, v, values, opts...); err != nil {
			b.Fatal(err)
		}
	}
}
