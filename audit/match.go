package audit

import "time"

// match pairs charges with submissions and fills r: each submission, in
// order of closing, takes the unmatched charge of its exact amount closest
// in time to its close, within the tolerance.
func match(r *Report, p Period, charges []Charge, subs []Submission) {
	used := make([]bool, len(charges))
	for _, s := range subs {
		in := p.within(s.ClosedAt)
		if s.Err != nil {
			if in {
				r.Unpriced = append(r.Unpriced, s)
			}
			continue
		}
		if in {
			r.Submissions.add(s.Amount)
		}
		i := closest(charges, used, s, p.Tolerance)
		if i < 0 {
			if in {
				r.UnexplainedSubmissions = append(r.UnexplainedSubmissions, s)
			}
			continue
		}
		used[i] = true
		if in || p.within(charges[i].Time) {
			r.Matched = append(r.Matched, Match{Charge: charges[i], Submission: s})
		}
	}
	for i, c := range charges {
		if !used[i] && p.within(c.Time) {
			r.UnexplainedCharges = append(r.UnexplainedCharges, c)
		}
	}
}

// closest returns the index of the unused charge of s's amount nearest in
// time to s's close, within tol, or -1.
func closest(charges []Charge, used []bool, s Submission, tol time.Duration) int {
	best, bestGap := -1, tol+1
	for i, c := range charges {
		if used[i] || c.Amount != s.Amount {
			continue
		}
		gap := c.Time.Sub(s.ClosedAt).Abs()
		if gap < bestGap {
			best, bestGap = i, gap
		}
	}
	return best
}
