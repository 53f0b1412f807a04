package visenginetest

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
)

// BenchmarkWalletTransactionsPage is one GET /oauth/v2/wallet/transactions
// (the newest page of 100) once the fake's ledger holds n movements, one
// per charge, as after a load test.
func BenchmarkWalletTransactionsPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("ledger=%d", n), func(b *testing.B) {
			s := NewUnstartedServer()
			now := time.Now()
			for range n {
				s.ledger = append(s.ledger, s.newLedgerEntry(visengine.Euros(1).Neg(), s.usageDescription(), now))
			}
			h := s.ts.Config.Handler
			for b.Loop() {
				r := httptest.NewRequest("GET", "/oauth/v2/wallet/transactions?skip=0&limit=100", nil)
				r.SetBasicAuth(s.Email, s.APIKey)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
