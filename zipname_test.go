package visengine

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// The duplicate check must flag every two accepted names that are equal after
// NFC plus full case folding, without importing golang.org/x/text in the
// package. TestNameRunesProof proves it for all names, one code point at a
// time, against x/text (imported by these tests only):
//
//  1. every accepted rune r is NFC-stable (NFC(r) == r) and starts a
//     normalization segment that nothing on its left can join (combining
//     class 0, BoundaryBefore). NFC works segment by segment, so NFC is the
//     identity on every accepted name, whatever the neighbours.
//  2. foldKey(r) == foldKey(Fold(r)). Folding works rune by rune and
//     foldKey is a concatenation of per-rune keys, so for any accepted name
//     a: foldKey(a) == foldKey(Fold(a)) == foldKey(Fold(NFC(a))).
//
// Hence Fold(NFC(a)) == Fold(NFC(b)) implies foldKey(a) == foldKey(b).
// FuzzZipNameDuplicates checks the conclusion directly on name pairs.
func TestNameRunesProof(t *testing.T) {
	require.Equal(t, unicode.Version, norm.Version, "the proof holds for the Unicode version both sides use")
	fold := cases.Fold()
	accepted := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if (r >= 0xd800 && r <= 0xdfff) || unsafeRune(r) != "" {
			continue
		}
		accepted++
		s := string(r)
		p := norm.NFC.PropertiesString(s)
		if norm.NFC.String(s) != s || !p.BoundaryBefore() || p.CCC() != 0 {
			t.Errorf("%U accepted but NFC may change or join it", r)
		}
		if k, kf := foldKey(s), foldKey(fold.String(s)); k != kf {
			t.Errorf("%U accepted: foldKey %+q but foldKey(Fold) %+q", r, k, kf)
		}
	}
	t.Logf("%d code points accepted in names", accepted)
	assert.Greater(t, accepted, 140_000, "the rule should refuse only what it must")
}

// TestNameRuneRuleKeepsWhatUsersWrite: precomposed letters of the languages
// in Italian documents, and common symbols, stay accepted.
func TestNameRuneRuleKeepsWhatUsersWrite(t *testing.T) {
	for _, name := range []string{
		"café.pdf", "perché è così.pdf", "Straße.pdf", "İstanbul.pdf", "Ελληνικά ΐ.pdf",
		"Привет.pdf", "文件.pdf", "가나다.pdf", "مرحبا.pdf", "€ 100 (copia) #2.pdf", "Ω.pdf",
		"CONSOLE.pdf", "com10.pdf", "auxiliary.pdf", "nul_x.pdf", "lpt.pdf", "a.b.c.pdf", ".hidden",
	} {
		assert.Empty(t, unsafeName(name), "%q", name)
	}
}

func TestUnsafeNameRefuses(t *testing.T) {
	cases := map[string][]string{
		"control":            {"a\x00b", "a\nb", "a\x7fb", "a\u0085b", "a\xffb"},
		"zero-width":         {"a\u200bb.pdf", "a\u200cb.pdf", "a\u200db.pdf", "a\u2060b.pdf", "a\u00adb.pdf", "a\u180eb.pdf"},
		"bidi":               {"fattura\u202efdp.exe", "a\u202ab", "\u2066x\u2069.pdf", "a\u200e.pdf", "a\u200f.pdf", "a\u061c.pdf"},
		"BOM":                {"\ufeffdoc.pdf", "doc.pdf\ufeff"},
		"invisible letter":   {"a\u3164b.pdf", "a\uffa0b.pdf", "\u115f.pdf"},
		"other spaces":       {"a\u00a0b.pdf", "a\u3000b.pdf", "a\u2028b.pdf", "a\u2029b.pdf", "a\u2009b.pdf"},
		"combining":          {"cafe\u0301.pdf", "doc\ufe0f.pdf", "a\u0345.pdf"},
		"NFC rewrites":       {"\u212bngstrom.pdf", "10\u2126.pdf", "\u212a.pdf", "\u037e.pdf", "\u0958.pdf", "\uf900.pdf", "\u1f71.pdf", "\u2329x\u232a.pdf"},
		"jamo":               {"\u1100\u1161.pdf", "\ua960.pdf", "\ud7b0.pdf"},
		"multi-rune fold":    {"\ufb01le.pdf", "\u0149.pdf", "\u01f0.pdf", "\u0587.pdf", "\u1e96.pdf"},
		"unassigned/private": {"\u0378.pdf", "\ue000.pdf", "\U000f0000.pdf"},
		"windows chars":      {"a?.pdf", "a*.pdf", `a"b.pdf`, "a<b.pdf", "a>b.pdf", "a|b.pdf"},
		"windows device": {
			"CON", "con", "Con.pdf", "aux.pdf", "AUX.tar.gz", "nul", "Nul.txt", "prn/x.pdf", "a/AuX/b.pdf",
			"com1", "COM9.pdf", "com0.pdf", "lpt1", "LPT9.txt", "lpt0", "COM\u00b9.txt", "lpt\u00b3", "nul .txt",
			"conin$", "CONOUT$.log",
		},
		"trailing dot or space": {"doc.", "doc.pdf.", "a./b.pdf", "doc.pdf ", "dir /x.pdf", "a/ ", "..."},
	}
	for group, names := range cases {
		for _, name := range names {
			assert.NotEmpty(t, unsafeName(name), "%s: %+q", group, name)
		}
	}
}

func TestFoldKey(t *testing.T) {
	same := [][2]string{
		{"A.pdf", "a.pdf"}, {"Straße.pdf", "STRASSE.pdf"}, {"straẞe", "strasse"}, {"σ.pdf", "ς.pdf"},
		{"Σ.pdf", "ς.pdf"}, {"ſ", "S"}, {"µ", "Μ"}, {"\uab70.pdf", "\u13a0.pdf"}, {"ǅ", "ǆ"}, {"ı", "I"},
		{"ΐ", "ΐ"}, {"Doc/A.pdf", "doc/a.PDF"},
	}
	for _, p := range same {
		assert.Equal(t, foldKey(p[0]), foldKey(p[1]), "%+q %+q", p[0], p[1])
	}
	different := [][2]string{{"İ.pdf", "i.pdf"}, {"a.pdf", "b.pdf"}, {"é", "e"}, {"ss", "s"}}
	for _, p := range different {
		assert.NotEqual(t, foldKey(p[0]), foldKey(p[1]), "%+q %+q", p[0], p[1])
	}
}

// TestUnicodeTables: unicode.Is searches a table assuming sorted,
// non-overlapping ranges; a typo there would silently accept a range.
func TestUnicodeTables(t *testing.T) {
	for name, tab := range map[string]*unicode.RangeTable{"unstableRunes": unstableRunes, "invisibleLetters": invisibleLetters} {
		last := rune(-1)
		for _, r := range tab.R16 {
			assert.True(t, rune(r.Lo) > last && r.Lo <= r.Hi && r.Stride == 1, "%s %v", name, r)
			last = rune(r.Hi)
		}
		for _, r := range tab.R32 {
			assert.True(t, rune(r.Lo) > last && r.Lo <= r.Hi && r.Stride == 1, "%s %v", name, r)
			last = rune(r.Hi)
		}
		assert.Zero(t, tab.LatinOffset, name)
	}
}

// FuzzZipNameDuplicates: two accepted names equal after NFC plus full case
// folding (or under Unicode canonical caseless matching) have the same
// foldKey, and an archive holding both is refused. Besides the pair it is
// given, it tries the pair's folded, upper-, lower-cased and NFD variants.
func FuzzZipNameDuplicates(f *testing.F) {
	fold, upper, lower := cases.Fold(), cases.Upper(language.Und), cases.Lower(language.Und)
	nfcFold := func(s string) string { return fold.String(norm.NFC.String(s)) }
	caseless := func(s string) string { return norm.NFD.String(fold.String(norm.NFD.String(s))) }
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || unsafeName(a) != "" {
			return
		}
		if norm.NFC.String(a) != a {
			t.Fatalf("accepted %+q is not NFC", a)
		}
		for _, c := range []string{b, fold.String(a), upper.String(a), lower.String(a), norm.NFD.String(a)} {
			if unsafeName(c) != "" || (nfcFold(a) != nfcFold(c) && caseless(a) != caseless(c)) {
				continue
			}
			if foldKey(a) != foldKey(c) {
				t.Fatalf("%+q and %+q are equal after NFC and folding, foldKey differs", a, c)
			}
			_, err := openBytes(buildZip(t, file(a, "1"), file(c, "2")))
			if !errors.Is(err, ErrUnsafeZip) {
				t.Fatalf("archive with %+q and %+q accepted: %v", a, c, err)
			}
		}
	})
}

// TestXTextIsTestOnly: golang.org/x/text proves the name rule in these
// tests, but the package users import stays on the standard library plus
// go-retryablehttp.
func TestXTextIsTestOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		ok := strings.HasPrefix(dep, "github.com/visengine-go/visengine") ||
			strings.HasPrefix(dep, "github.com/hashicorp/go-retryablehttp") ||
			strings.HasPrefix(dep, "github.com/hashicorp/go-cleanhttp") // go-retryablehttp's own dependency
		assert.True(t, ok, "the root package depends on %s", dep)
	}
}
