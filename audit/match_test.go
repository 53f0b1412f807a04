package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/visengine-go/visengine"
)

// Matching is by exact amount and nearest time within the tolerance; what
// falls just outside the period explains what is just inside it, and only
// what is inside is reported.
func TestMatchAcrossThePeriodsEdges(t *testing.T) {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := Period{Since: since, Until: since.AddDate(0, 1, 0)}.normal()
	eur := visengine.Euros
	charges := []Charge{
		{TransactionID: "a", Amount: eur(20), Time: since.Add(-2 * time.Second)},             // before: pays the close just after
		{TransactionID: "b", Amount: eur(20), Time: since.Add(time.Hour)},                    // pays the close at 1h
		{TransactionID: "c", Amount: eur(24), Time: since.Add(2 * time.Hour)},                // nothing closed at 24 then
		{TransactionID: "d", Amount: eur(20), Time: p.Until.Add(-time.Second)},               // pays nothing inside
		{TransactionID: "e", Amount: eur(20), Time: since.Add(3*time.Hour + 11*time.Minute)}, // too late for the close at 3h
	}
	subs := []Submission{
		{Ref: "1", Amount: eur(20), ClosedAt: since.Add(time.Second)},
		{Ref: "2", Amount: eur(20), ClosedAt: since.Add(time.Hour - time.Minute)},
		{Ref: "3", Amount: eur(20), ClosedAt: since.Add(3 * time.Hour)},
		{Ref: "4", Amount: eur(20), ClosedAt: p.Until.Add(time.Minute)}, // after: explains charge d
	}
	var r Report
	match(&r, p, charges, subs)
	assert.Equal(t, Totals{Count: 3, Total: eur(60)}, r.Submissions, "only those inside")
	ids := func(cs []Charge) (out []string) {
		for _, c := range cs {
			out = append(out, c.TransactionID)
		}
		return out
	}
	assert.Equal(t, []string{"c", "e"}, ids(r.UnexplainedCharges))
	assert.Len(t, r.UnexplainedSubmissions, 1)
	assert.Equal(t, "3", r.UnexplainedSubmissions[0].Ref)
	assert.Len(t, r.Matched, 3)
}

// A period without an end counts what was recorded up to now, also when a
// journal stamped it a moment ahead of this clock (its clock margin): an
// audit right after a submission sees it.
func TestOpenPeriodCountsWhatIsStampedAhead(t *testing.T) {
	p := Period{Since: time.Now().Add(-time.Hour)}.normal()
	eur := visengine.Euros
	ahead := p.Until.Add(time.Millisecond)
	var r Report
	match(&r, p, []Charge{{TransactionID: "a", Amount: eur(20), Time: p.Until.Add(-time.Second)}},
		[]Submission{{Ref: "1", Amount: eur(20), ClosedAt: ahead}})
	assert.Equal(t, Totals{Count: 1, Total: eur(20)}, r.Submissions)
	assert.True(t, r.Clean())
}
