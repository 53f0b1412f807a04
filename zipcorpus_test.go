package visengine

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateZipCorpus = flag.Bool("update-zip-corpus", false, "rewrite testdata/zip from zipCorpus")

// zipCorpusCase is one archive kept under testdata/zip/{ok,unsafe}/name.zip.
// The files, not the builder, are what each run opens: the bytes stay fixed
// whatever archive/zip's writer does. -update-zip-corpus rewrites them.
type zipCorpusCase struct {
	ok      bool
	entries []zipEntry
	raw     []byte // used instead of entries when set
}

func (c zipCorpusCase) path(name string) string {
	dir := "unsafe"
	if c.ok {
		dir = "ok"
	}
	return filepath.Join("testdata", "zip", dir, name+".zip")
}

// files is one small file per name.
func files(names ...string) []zipEntry {
	out := make([]zipEntry, len(names))
	for i, n := range names {
		out[i] = file(n, "%PDF-1.7 "+n)
	}
	return out
}

func zipCorpus(t testing.TB) map[string]zipCorpusCase {
	bad := func(names ...string) zipCorpusCase { return zipCorpusCase{entries: files(names...)} }
	good := func(names ...string) zipCorpusCase { return zipCorpusCase{ok: true, entries: files(names...)} }
	return map[string]zipCorpusCase{
		// Names that look the same as another, or like something else.
		"nfc-nfd-duplicate":     bad("café.pdf", "cafe\u0301.pdf"),
		"zero-width-space":      bad("visura.pdf", "visura\u200b.pdf"),
		"zero-width-joiner":     bad("vi\u200dsura.pdf"),
		"zero-width-non-joiner": bad("vi\u200csura.pdf"),
		"word-joiner":           bad("vi\u2060sura.pdf"),
		"soft-hyphen":           bad("vi\u00adsura.pdf"),
		"bidi-override":         bad("fattura\u202efdp.exe"),
		"bidi-isolate":          bad("\u2067visura\u2069.pdf"),
		"bidi-mark":             bad("visura\u200f.pdf"),
		"bom":                   bad("\ufeffvisura.pdf"),
		"hangul-filler":         bad("visura\u3164.pdf"),
		"no-break-space":        bad("visura A2.pdf", "visura\u00a0A2.pdf"),
		"line-separator":        bad("visura\u2028.pdf"),
		"variation-selector":    bad("visura\ufe0f.pdf"),
		"angstrom-sign":         bad("\u00c5.pdf", "\u212b.pdf"),
		"kelvin-sign":           bad("\u212a.pdf"),
		"ohm-sign":              bad("10\u2126.pdf"),
		"hangul-jamo":           bad("가.pdf", "\u1100\u1161.pdf"),
		"cjk-compatibility":     bad("\uf900.pdf"),
		"ligature":              bad("file.pdf", "\ufb01le.pdf"),
		"private-use":           bad("\ue000.pdf"),
		"unassigned":            bad("\u0378.pdf"),
		// Names equal after case folding.
		"case-duplicate":        bad("A.pdf", "a.pdf"),
		"case-duplicate-folder": bad("Doc/visura.pdf", "doc/Visura.pdf"),
		"sharp-s-duplicate":     bad("Straße.pdf", "STRASSE.pdf"),
		"sigma-duplicate":       bad("ΟΔΟΣ.pdf", "οδος.pdf"),
		"long-s-duplicate":      bad("ſ.pdf", "S.pdf"),
		"cherokee-duplicate":    bad("\uab70.pdf", "\u13a0.pdf"),
		"dotless-i-duplicate":   bad("ı.pdf", "I.pdf"), // one name on Windows
		// Names Windows cannot create, or creates differently.
		"device-con":             bad("con"),
		"device-con-ext":         bad("CON.pdf"),
		"device-aux":             bad("aux.pdf"),
		"device-nul-two-ext":     bad("Nul.tar.gz"),
		"device-nul-space":       bad("nul .txt"),
		"device-prn-folder":      bad("prn/visura.pdf"),
		"device-aux-nested":      bad("a/AuX/visura.pdf"),
		"device-com1":            bad("com1.txt"),
		"device-com9":            bad("COM9"),
		"device-com-superscript": bad("COM\u00b9.pdf"),
		"device-lpt1":            bad("Lpt1.pdf"),
		"device-lpt9-folder":     bad("LPT9/x.pdf"),
		"device-conout":          bad("CONOUT$.log"),
		"trailing-dot":           bad("visura.pdf."),
		"trailing-dot-folder":    bad("doc./visura.pdf"),
		"trailing-space":         bad("visura.pdf "),
		"trailing-space-folder":  bad("doc /visura.pdf"),
		"windows-question-mark":  bad("visura?.pdf"),
		"windows-asterisk":       bad("visura*.pdf"),
		"windows-quote":          bad(`"visura".pdf`),
		"windows-angle":          bad("<visura>.pdf"),
		"windows-pipe":           bad("a|b.pdf"),
		// Entry counts.
		"zip64-declares-2pow40": {raw: rawDirectory(3, 1<<40, true)},
		// Accepted.
		"italian":           good("perché/così è.pdf", "café.pdf"),
		"german":            good("Straße.pdf"),
		"turkish":           good("İstanbul.pdf", "istanbul.pdf"),
		"greek":             good("Ελληνικά ΐ.pdf"),
		"cjk-hangul":        good("文件.pdf", "가.pdf"),
		"device-lookalikes": good("CONSOLE.pdf", "com10.pdf", "auxiliary.pdf", "nul_x.pdf", "lpt.pdf", "con-1.pdf"),
		"dots-inside":       good("visura.v2.pdf", ".hidden", "doc/a.b/c.pdf"),
		"zip64":             {ok: true, raw: toZip64(buildZip(t, files("a.pdf", "doc/b.pdf")...))},
	}
}

func TestZipCorpus(t *testing.T) {
	corpus := zipCorpus(t)
	for name, c := range corpus {
		t.Run(name, func(t *testing.T) {
			if *updateZipCorpus {
				data := c.raw
				if data == nil {
					data = buildZip(t, c.entries...)
				}
				require.NoError(t, os.MkdirAll(filepath.Dir(c.path(name)), 0o755))
				require.NoError(t, os.WriteFile(c.path(name), data, 0o644))
			}
			data, err := os.ReadFile(c.path(name))
			require.NoError(t, err, "run go test -run TestZipCorpus -update-zip-corpus")
			a, err := openBytes(data)
			if !c.ok {
				require.ErrorIs(t, err, ErrUnsafeZip)
				var ze *ZipError
				require.ErrorAs(t, err, &ze)
				assert.False(t, strings.ContainsFunc(err.Error(), func(r rune) bool {
					return unicode.In(r, unicode.Cc, unicode.Cf)
				}), "the error shows names escaped: %q", err.Error())
				return
			}
			require.NoError(t, err)
			dir := t.TempDir()
			require.NoError(t, a.ExtractTo(dir))
			var want []string
			for _, e := range a.Files() {
				want = append(want, filepath.FromSlash(e.Name))
			}
			var got []string
			for _, p := range listTree(t, dir) {
				if st, err := os.Stat(filepath.Join(dir, p)); err == nil && !st.IsDir() {
					got = append(got, p)
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got, "every file extracted under its own name")
		})
	}
	t.Run("no stale files", func(t *testing.T) {
		paths, err := filepath.Glob(filepath.Join("testdata", "zip", "*", "*.zip"))
		require.NoError(t, err)
		for _, p := range paths {
			name := strings.TrimSuffix(filepath.Base(p), ".zip")
			c, ok := corpus[name]
			assert.True(t, ok && c.path(name) == p, "%s is not in zipCorpus", p)
		}
		assert.Len(t, paths, len(corpus))
	})
}

// zipCorpusSeeds returns the corpus files, for FuzzOpenZip.
func zipCorpusSeeds(f *testing.F) [][]byte {
	paths, err := filepath.Glob(filepath.Join("testdata", "zip", "*", "*.zip"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no zip corpus: %v", errors.Join(err, errors.New("testdata/zip is empty")))
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
