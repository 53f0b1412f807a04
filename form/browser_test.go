package form_test

import (
	"archive/zip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// chromium finds a Chromium or Chrome binary. Without one the browser test
// is skipped on a developer's machine, and fails where CI=true or
// VISENGINE_REQUIRE_CHROMIUM=1: there a missing browser is a broken
// environment, never a pass.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VISENGINE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("VISENGINE_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no Chromium found (apt-get install chromium, or set VISENGINE_CHROMIUM) and CI or VISENGINE_REQUIRE_CHROMIUM requires it")
	}
	t.Skip("no Chromium found; set VISENGINE_REQUIRE_CHROMIUM=1 to make this a failure")
	return ""
}

// newBrowser starts a headless Chromium for the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1000, 1400))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() {
		start := time.Now()
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		t.Log("browser stopped in", time.Since(start))
	})
	start := time.Now()
	require.NoError(t, chromedp.Run(ctx)) // start the browser now, so its startup is not counted below
	t.Log("browser started in", time.Since(start))
	return ctx
}

// writePDF writes a small PDF for the upload.
func writePDF(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("%PDF-1.4\n% "+name+"\n%%EOF\n"), 0o600))
	return p
}

// Issue 22, in a real browser: the A2 form filled without the phone shows
// the browser-side message and sends nothing; fixed, with two PDFs, it is
// confirmed and paid, the status page reaches "Dati disponibili" by itself,
// and the zip downloads.
func TestBrowserA2(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnvStep(t, "2631ec9b62135de4186f509fea7d954b", 0) // the test moves the richiesta on
	start := time.Now()
	dir := t.TempDir()
	doc, cf := writePDF(t, dir, "documento.pdf"), writePDF(t, dir, "codice-fiscale.pdf")

	var phoneErr, cfErr, summary string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(e.base),
		chromedp.SendKeys("#f0", "Mario", chromedp.ByID),
		chromedp.SendKeys("#f1", "Rossi", chromedp.ByID),
		chromedp.SendKeys("#f4", "RSSMRA80A01H501X", chromedp.ByID), // a typo in the check character
		chromedp.SendKeys("#f2", "mario.rossi@example.it", chromedp.ByID),
		chromedp.SetUploadFiles("#f5", []string{doc}, chromedp.ByID),
		chromedp.SetUploadFiles("#f6", []string{cf}, chromedp.ByID),
		chromedp.Click("#submit", chromedp.ByID),
		chromedp.WaitVisible("#f3-error", chromedp.ByID),
		chromedp.Text("#f3-error", &phoneErr, chromedp.ByID),
		chromedp.Text("#f4-error", &cfErr, chromedp.ByID),
		chromedp.Text("#error-summary", &summary, chromedp.ByID),
	))
	assert.Equal(t, "obbligatorio: non è compilato", phoneErr)
	assert.Contains(t, summary, "CELLULARE: obbligatorio")
	assert.Equal(t, visengine.ProblemCodeCheckChar.Message(visengine.Italian), cfErr)
	assert.Zero(t, e.posts.Load(), "the browser's check sends nothing")
	t.Log("checked in the browser after", time.Since(start))
	if p := os.Getenv("VISENGINE_FORM_SCREENSHOT"); p != "" { // the README's picture
		var png []byte
		require.NoError(t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)))
		require.NoError(t, os.WriteFile(p, png, 0o644))
	}

	var total, stato, id string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys("#f3", "3331234567", chromedp.ByID),
		chromedp.SetValue("#f4", "RSSMRA80A01H501U", chromedp.ByID),
		chromedp.Click("#opt-opzione_0", chromedp.ByID),
		chromedp.Click("#submit", chromedp.ByID),
		chromedp.WaitVisible("#total", chromedp.ByID),
		chromedp.Text("#total", &total, chromedp.ByID),
		chromedp.Click("#confirm", chromedp.ByID),
		chromedp.WaitVisible("#stato", chromedp.ByID),
		chromedp.Text("#stato", &stato, chromedp.ByID),
		chromedp.Text("#richiesta", &id, chromedp.ByID),
	))
	assert.Equal(t, "€24.00", total)
	assert.Equal(t, "In erogazione", stato)
	assert.Equal(t, 1, e.charges())
	assert.Equal(t, int32(2), e.posts.Load(), "one post of the form, one confirmation")

	// Visengine moves the richiesta on; the page follows by itself.
	_, err := e.fake.Advance(id)
	require.NoError(t, err)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible("#download", chromedp.ByID), // unhidden by the event stream
		chromedp.Text("#stato", &stato, chromedp.ByID),
	))
	assert.Equal(t, "Dati disponibili", stato)
	t.Log("paid and ready after", time.Since(start))
	var z *zip.ReadCloser
	zipPath := download(t, ctx, dir)
	t.Log("downloaded after", time.Since(start))
	z, err = zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer z.Close()
	assert.NotEmpty(t, z.File)

	// The same browser, to spare a start: the script's format checks give
	// the server's codes.
	t.Run("ChecksMatchServer", func(t *testing.T) { testChecksMatchServer(t, ctx, e.base) })
}

// download clicks the status page's link and waits for the browser to
// save the file in dir; it returns the file's path.
func download(t *testing.T, ctx context.Context, dir string) string {
	t.Helper()
	done := make(chan string, 1)
	chromedp.ListenTarget(ctx, func(ev any) {
		if p, ok := ev.(*browser.EventDownloadProgress); ok && p.State == browser.DownloadProgressStateCompleted {
			select {
			case done <- p.GUID:
			default:
			}
		}
	})
	require.NoError(t, chromedp.Run(ctx,
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).
			WithDownloadPath(dir).WithEventsEnabled(true),
		chromedp.Click("#download-link", chromedp.ByID),
	))
	select {
	case guid := <-done:
		return filepath.Join(dir, guid)
	case <-ctx.Done():
		t.Fatal("the download did not complete")
	}
	return ""
}
