package form

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/visengine-go/visengine"
)

// Limits bound what one applicant can make the server hold. The zero value
// of a field means its default.
type Limits struct {
	// MaxFileSize is the largest file, in bytes (before base64). Default:
	// visengine.DefaultMaxFileSize (10 MiB).
	MaxFileSize int64
	// MaxTotalSize is the largest multipart body, in bytes. Default: 32 MiB.
	MaxTotalSize int64
	// MaxFields is the most parts a body may have (fields, files, options
	// and hidden fields together). Default: 4 more than the service's
	// fields and options, at least 16.
	MaxFields int
	// MaxTextSize is the largest text field, in bytes. Default: 4 KiB.
	MaxTextSize int64
	// PendingTTL is how long validated data wait for confirmation, in
	// memory. Default: 30 minutes.
	PendingTTL time.Duration
	// MaxPending is the most forms waiting for confirmation at once; more
	// are answered 503. Default: 256.
	MaxPending int
	// MaxPendingSize bounds the bytes of values (files in base64
	// included) all forms waiting for confirmation hold together; more are
	// answered 503. Default: 256 MiB.
	MaxPendingSize int64
	// StatusTTL is how long a status page stays reachable after payment.
	// Default: 24 hours.
	StatusTTL time.Duration
}

// The defaults of Limits.
const (
	DefaultMaxTotalSize   = 32 << 20
	DefaultMaxTextSize    = 4 << 10
	DefaultPendingTTL     = 30 * time.Minute
	DefaultMaxPending     = 256
	DefaultMaxPendingSize = 256 << 20
	DefaultStatusTTL      = 24 * time.Hour
)

// withDefaults fills the zero fields of l; nFields is the number of parts a
// complete form sends.
func (l Limits) withDefaults(nFields int) Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = visengine.DefaultMaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxFields <= 0 {
		l.MaxFields = max(nFields+4, 16)
	}
	if l.MaxTextSize <= 0 {
		l.MaxTextSize = DefaultMaxTextSize
	}
	if l.PendingTTL <= 0 {
		l.PendingTTL = DefaultPendingTTL
	}
	if l.MaxPending <= 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.MaxPendingSize <= 0 {
		l.MaxPendingSize = DefaultMaxPendingSize
	}
	if l.StatusTTL <= 0 {
		l.StatusTTL = DefaultStatusTTL
	}
	return l
}

// Paid is what WithOnPaid receives once a form's richiesta is paid.
type Paid struct {
	// FormID is the form's random id, also the idempotency key's suffix.
	FormID string
	// Operator is what WithOperator returned for the confirming request.
	Operator string
	// Richiesta is the paid richiesta.
	Richiesta *visengine.Richiesta
	// Values are the applicant's values as paid for: personal data, for the
	// integrator's own store; the form drops them after the hook.
	Values visengine.Values
	// Opzioni are the chosen options' nomi.
	Opzioni []string
	// Total is the price charged, options included.
	Total visengine.Price
}

// Option configures New.
type Option func(*config)

type config struct {
	lang      visengine.Lang
	limits    Limits
	operator  func(*http.Request) (string, error)
	onPaid    func(context.Context, Paid) error
	templates fs.FS
	logger    *slog.Logger
	submit    []visengine.SubmitOption
	poll      time.Duration
	accept    string
	now       func() time.Time
	secure    bool
	tempDir   string
}

// WithLang sets the language of the pages: visengine.Italian (the default)
// or visengine.English.
func WithLang(lang visengine.Lang) Option { return func(c *config) { c.lang = lang } }

// WithLimits bounds body, file and field sizes and the data held in memory.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithOperator says who the operator is, for every POST: fn's answer goes
// to WithOnPaid's Paid.Operator, and an error refuses the request (403)
// before anything is read or sent. fn must not log personal data.
func WithOperator(fn func(*http.Request) (string, error)) Option {
	return func(c *config) { c.operator = fn }
}

// WithOnPaid calls fn once for each paid form, before the redirect to its
// status page: to store the richiesta's id with the applicant. An error is
// logged (without personal data); the payment stands and the applicant
// still sees the status page.
func WithOnPaid(fn func(context.Context, Paid) error) Option {
	return func(c *config) { c.onPaid = fn }
}

// WithTemplates replaces the page templates by those of fsys with the same
// names (layout.html, form.html, confirm.html, status.html, message.html);
// the others stay the embedded ones. Templates receive a *Page.
func WithTemplates(fsys fs.FS) Option { return func(c *config) { c.templates = fsys } }

// WithLogger logs one line per request: method, page, status and the
// submission's outcome, never a value, a token or a richiesta's address.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithSubmitOptions passes opts to every Submit (visengine.WithJournal,
// WithCallback, WithCreditCheck…). The form sets the idempotency key and
// the options itself.
func WithSubmitOptions(opts ...visengine.SubmitOption) Option {
	return func(c *config) { c.submit = append(c.submit, opts...) }
}

// WithPollInterval sets how often the status page's event stream reads the
// richiesta. Default: 2 seconds.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.poll = d } }

// WithAccept sets the accept attribute of file inputs. Default:
// "application/pdf,image/jpeg,image/png".
func WithAccept(accept string) Option { return func(c *config) { c.accept = accept } }

// WithSecureCookies marks the CSRF cookie Secure even when the request did
// not come over TLS (behind a proxy that terminates it).
func WithSecureCookies() Option { return func(c *config) { c.secure = true } }

// WithTempDir sets where documents are downloaded before they are checked
// and served. Default: os.TempDir().
func WithTempDir(dir string) Option { return func(c *config) { c.tempDir = dir } }
