package visengine

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxListedFields bounds how many field names an unknown-name error lists.
const maxListedFields = 12

// FieldNamesClosest lists the labels of v's fields, the one closest to name
// first (by edit distance, ignoring case and surrounding blanks; ties in
// display order), so a message about a mistyped label can suggest the
// right one. Field labels are not personal data. A nil Visura has none.
func (v *Visura) FieldNamesClosest(name string) []string {
	fields := v.Fields()
	want := strings.ToUpper(strings.TrimSpace(name))
	dist := make(map[string]int, len(fields))
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		if _, dup := dist[f.Nome]; dup {
			continue
		}
		dist[f.Nome] = editDistance(want, strings.ToUpper(strings.TrimSpace(f.Nome)))
		names = append(names, f.Nome)
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(dist[a], dist[b]) })
	return names
}

// fieldNamesText quotes the closest field names for an error, at most
// maxListedFields of them.
func fieldNamesText(v *Visura, name string) string {
	names := v.FieldNamesClosest(name)
	more := ""
	if len(names) > maxListedFields {
		names, more = names[:maxListedFields], ", …"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return "; its fields, closest first: " + strings.Join(q, ", ") + more
}

// editDistance is the Levenshtein distance between a and b in runes, with
// one row of memory.
func editDistance(a, b string) int {
	if utf8.RuneCountInString(a) < utf8.RuneCountInString(b) {
		a, b = b, a
	}
	rb := []rune(b)
	row := make([]int, len(rb)+1)
	for j := range row {
		row[j] = j
	}
	for _, ca := range a {
		prev := row[0]
		row[0]++
		for j, cb := range rb {
			cost := 1
			if ca == cb {
				cost = 0
			}
			prev, row[j+1] = row[j+1], min(row[j+1]+1, row[j]+1, prev+cost)
		}
	}
	return row[len(rb)]
}
