package visengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	goparser "go/parser"
	gotoken "go/token"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exportedTypes and exportedFuncs list the package's exported types and
// functions for the walks below; TestNilSafetyListsEveryExport fails when
// an export is missing, so a new one is walked too.
var exportedTypes = []reflect.Type{
	reflect.TypeFor[APIError](), reflect.TypeFor[Callback](), reflect.TypeFor[CallbackEvent](),
	reflect.TypeFor[CallbackFunc](), reflect.TypeFor[CallbackOption](), reflect.TypeFor[Campo](),
	reflect.TypeFor[CancelledError](), reflect.TypeFor[ShapeError](), reflect.TypeFor[Client](), reflect.TypeFor[Code](),
	reflect.TypeFor[Documento](), reflect.TypeFor[DocumentoInfo](), reflect.TypeFor[DownloadOption](),
	reflect.TypeFor[DryRunResult](), reflect.TypeFor[Esito](), reflect.TypeFor[Explanation](),
	reflect.TypeFor[FieldSet](), reflect.TypeFor[Flag](),
	reflect.TypeFor[Option](), reflect.TypeFor[Opzione](), reflect.TypeFor[Ordine](),
	reflect.TypeFor[OutcomeUnknownError](), reflect.TypeFor[PartialDownloadError](), reflect.TypeFor[Price](),
	reflect.TypeFor[ReconcileOption](), reflect.TypeFor[Ricerca](), reflect.TypeFor[Richiesta](),
	reflect.TypeFor[RichiestaParams](), reflect.TypeFor[RichiestaSummary](), reflect.TypeFor[Risultato](),
	reflect.TypeFor[Rule](), reflect.TypeFor[RuleSyntaxError](), reflect.TypeFor[SearchFailedError](),
	reflect.TypeFor[State](), reflect.TypeFor[Stato](), reflect.TypeFor[StatoRicerca](),
	reflect.TypeFor[Struttura](), reflect.TypeFor[SubmitError](), reflect.TypeFor[SubmitOption](),
	reflect.TypeFor[SubmitStep](), reflect.TypeFor[TimestampStati](), reflect.TypeFor[UnknownFieldError](),
	reflect.TypeFor[UpdateParams](), reflect.TypeFor[ValidateOption](), reflect.TypeFor[ValidationError](),
	reflect.TypeFor[Values](), reflect.TypeFor[Visura](), reflect.TypeFor[VisuraSummary](),
	reflect.TypeFor[WaitOption](), reflect.TypeFor[ZipArchive](), reflect.TypeFor[ZipEntry](),
	reflect.TypeFor[ZipError](), reflect.TypeFor[ZipOption](),
	reflect.TypeFor[Problem](), reflect.TypeFor[ProblemCode](), reflect.TypeFor[Token](),
	reflect.TypeFor[TokenSource](), reflect.TypeFor[TokenRenewer](), reflect.TypeFor[Journal](),
	reflect.TypeFor[JournalEntry](), reflect.TypeFor[JournalFilter](), reflect.TypeFor[JournalOutcome](),
	reflect.TypeFor[Resolution](), reflect.TypeFor[ResolutionStatus](), reflect.TypeFor[ResumeOption](),
	reflect.TypeFor[RecoverReport](),
	reflect.TypeFor[CreditSource](),
	reflect.TypeFor[CallbackClaim](), reflect.TypeFor[CallbackDedupe](),
	reflect.TypeFor[Lang](), reflect.TypeFor[SubmitOutcome](), // issue 22
	reflect.TypeFor[SubmitInfo](), // idempotency keys
	reflect.TypeFor[ListError](), reflect.TypeFor[EntryError](),
}

var exportedFuncs = map[string]any{
	"CallbackHandler": CallbackHandler, "Cents": Cents, "Euros": Euros, "FieldSetOf": FieldSetOf, "FileValue": FileValue, "Micros": Micros,
	"NewCallback": NewCallback, "NewCallbackWithSecret": NewCallbackWithSecret, "NewClient": NewClient,
	"OpenZip": OpenZip, "OpenZipFile": OpenZipFile, "ParsePrice": ParsePrice, "ParseRule": ParseRule,
	"WithBaseURL": WithBaseURL, "WithCallback": WithCallback, "WithCallbackClient": WithCallbackClient,
	"WithCallbackField": WithCallbackField, "WithCallbackMaxBody": WithCallbackMaxBody,
	"WithCallbackSecret": WithCallbackSecret, "WithCallbackSecrets": WithCallbackSecrets,
	"WithDownloadProgress": WithDownloadProgress, "WithEmailTarget": WithEmailTarget,
	"WithHTTPClient": WithHTTPClient, "WithLogger": WithLogger, "WithMaxFileSize": WithMaxFileSize,
	"WithMaxResponseSize": WithMaxResponseSize, "WithOnChange": WithOnChange, "WithOpzioni": WithOpzioni,
	"WithPollInterval": WithPollInterval, "WithReconcileSettle": WithReconcileSettle,
	"WithRetry": WithRetry, "WithSandbox": WithSandbox,
	"WithStrict": WithStrict, "WithUserAgent": WithUserAgent, "WithValidation": WithValidation,
	"WithZipMaxEntries": WithZipMaxEntries, "WithZipMaxRatio": WithZipMaxRatio,
	"WithZipMaxTotalSize": WithZipMaxTotalSize, "FileValueBase64": FileValueBase64,
	"JournalDigest": JournalDigest, "NewJournalRef": NewJournalRef, "ScopeFor": ScopeFor,
	"WithJournal": WithJournal, "WithCloseSettle": WithCloseSettle, "WithJournalLease": WithJournalLease,
	"WithReconcileSkew": WithReconcileSkew, "WithReconcileMaxReads": WithReconcileMaxReads,
	"WithReconcileRef": WithReconcileRef, "WithReconcileDraft": WithReconcileDraft,
	"WithCloseSentAt": WithCloseSentAt, "WithNoCloseSent": WithNoCloseSent,
	"WithStallTimeout": WithStallTimeout, "WithCallbackRereadTimeout": WithCallbackRereadTimeout,
	"WithCallbackDedupe": WithCallbackDedupe, "WithIdempotencyKey": WithIdempotencyKey,
	"WithTokenSource": WithTokenSource, "WithScopeHost": WithScopeHost, "WithCreditCheck": WithCreditCheck,
	"WithCallbackRereadLimit": WithCallbackRereadLimit, "WithCallbackRetryAfter": WithCallbackRetryAfter,
	"WithCallbackDedupeStore": WithCallbackDedupeStore,
	// issue 22
	"Langs": Langs, "ParseLang": ParseLang, "ProblemCodes": ProblemCodes, "SubmitOutcomeOf": SubmitOutcomeOf,
	"SubmitOutcomes": SubmitOutcomes,
	// idempotency keys and rate limits
	"KeyedJournalDigest": KeyedJournalDigest, "IdempotencyRef": IdempotencyRef, "WithJournalSecret": WithJournalSecret,
	"WithSubmitInfo": WithSubmitInfo, "WithRateLimit": WithRateLimit, "WithRateLimitRetry": WithRateLimitRetry,
}

// nilSafetyExempt are the methods allowed to panic on a zero receiver or
// zero arguments, with the reason.
var nilSafetyExempt = map[string]string{
	// Writing to a nil map panics, as url.Values.Set and http.Header.Set
	// do; Set has no error to return.
	"Values.Set": "assignment to a nil map, as url.Values.Set",
}

// prefixPending are the calls whose errors do not yet start with
// "visengine: " (they pass on an *fs.PathError); they belong to the zip
// code, whose errors are being reworked.
var prefixPending = map[string]bool{"OpenZipFile": true}

// TestNilSafetyListsEveryExport keeps the lists above complete: it reads
// the package's exported types and functions from its source.
func TestNilSafetyListsEveryExport(t *testing.T) {
	fset := gotoken.NewFileSet()
	pkgs, err := goparser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	listed := map[string]bool{}
	for _, typ := range exportedTypes {
		listed[typ.Name()] = true
	}
	for name := range exportedFuncs {
		listed[name] = true
	}
	for _, f := range pkgs["visengine"].Files {
		for _, d := range f.Decls {
			for _, name := range exportedNames(d) {
				assert.True(t, listed[name], "%s is not in exportedTypes/exportedFuncs of nilsafety_test.go", name)
			}
		}
	}
}

func exportedNames(d ast.Decl) []string {
	var names []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil && d.Name.IsExported() {
			names = append(names, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() {
				names = append(names, ts.Name.Name)
			}
		}
	}
	return names
}

// TestNoPanicOnNilOrZero walks every exported method of every exported
// type and calls it on a nil receiver (a zero value for value methods)
// and, for *Client, on a zero Client and a working client; with a nil, a live and a
// cancelled context; every other argument zero: nil *Visura, nil Values,
// "" ids. Nothing may panic. A nil receiver or a nil context must give an
// error matching ErrInvalidArgument (when the method returns an error), and
// every error must carry exactly one "visengine: " prefix.
func TestNoPanicOnNilOrZero(t *testing.T) {
	t.Chdir(t.TempDir()) // whatever a zero ZipArchive might extract stays here
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 400, `{"data":null,"success":false,"message":"refused","error":1}`)
	})
	live := newTestClient(t, srv.URL, WithRetry(1, 0, 0))
	for _, typ := range exportedTypes {
		ptr := reflect.PointerTo(typ)
		for i := range ptr.NumMethod() {
			m := ptr.Method(i)
			_, valueMethod := typ.MethodByName(m.Name)
			for _, recv := range receivers(typ, valueMethod, live) {
				for _, ctx := range contextsFor(m.Type) {
					checkCall(t, typ.Name()+"."+m.Name, m, recv, ctx)
				}
			}
		}
	}
	// Only the calls without an argument to refuse, ListVisure and
	// ListRichieste, with the live context, reach the server.
	assert.EqualValues(t, 2, srv.hits.Load())
}

// receiver is one value to call methods on.
type receiver struct {
	name string
	v    reflect.Value
	nil  bool // a nil *T, or a *Client not made by NewClient
}

func receivers(typ reflect.Type, valueMethod bool, live *Client) []receiver {
	if valueMethod {
		// A value method called through a nil pointer panics in Go itself,
		// before the method runs: only its zero value can be tried.
		return []receiver{{name: "zero", v: reflect.New(typ)}}
	}
	rs := []receiver{{name: "nil", v: reflect.Zero(reflect.PointerTo(typ)), nil: true}}
	if typ == reflect.TypeFor[Client]() {
		rs = append(rs, receiver{name: "zero", v: reflect.New(typ), nil: true},
			receiver{name: "live", v: reflect.ValueOf(live)})
	}
	return rs
}

// contextsFor returns the contexts to try: nil, live and cancelled when the
// method takes one, otherwise a single placeholder.
func contextsFor(mt reflect.Type) []context.Context {
	for i := 1; i < mt.NumIn(); i++ {
		if mt.In(i) == reflect.TypeFor[context.Context]() {
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			return []context.Context{nil, context.Background(), cancelled}
		}
	}
	return []context.Context{nil}
}

func checkCall(t *testing.T, name string, m reflect.Method, recv receiver, ctx context.Context) {
	t.Helper()
	label := fmt.Sprintf("%s on a %s receiver, context %v", name, recv.name, ctx)
	args := []reflect.Value{recv.v}
	takesCtx := false
	for i := 1; i < m.Type.NumIn(); i++ {
		in := m.Type.In(i)
		if m.Type.IsVariadic() && i == m.Type.NumIn()-1 {
			break
		}
		args = append(args, zeroArg(in, ctx))
		takesCtx = takesCtx || in == reflect.TypeFor[context.Context]()
	}
	out, panicked := callRecover(m.Func, args)
	if reason, exempt := nilSafetyExempt[name]; exempt {
		t.Logf("%s may panic: %s", label, reason)
		return
	}
	if !assert.Nil(t, panicked, "%s panicked", label) {
		return
	}
	err := lastError(out)
	if err == nil {
		if returnsError(m.Type) && m.Name != "Unwrap" && (recv.nil || takesCtx && ctx == nil) {
			t.Errorf("%s: no error", label)
		}
		return
	}
	if recv.nil || takesCtx && ctx == nil {
		assert.ErrorIs(t, err, ErrInvalidArgument, label)
	}
	if takesCtx && ctx != nil && ctx.Err() != nil {
		assert.True(t, errors.Is(err, context.Canceled) || errors.Is(err, ErrInvalidArgument), "%s: %v", label, err)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown, label)
	}
	assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), "%s: %q", label, err)
	assert.True(t, strings.HasPrefix(err.Error(), "visengine: "), "%s: %q", label, err)
}

// zeroArg is the zero value of t, except for what fmt and callers always
// supply: a context (given), a fmt.State (a real one; fmt never passes nil).
func zeroArg(t reflect.Type, ctx context.Context) reflect.Value {
	switch t {
	case reflect.TypeFor[context.Context]():
		if ctx == nil {
			return reflect.Zero(t)
		}
		return reflect.ValueOf(ctx)
	case reflect.TypeFor[fmt.State]():
		return reflect.ValueOf(fmtState{})
	}
	return reflect.Zero(t)
}

// fmtState is a fmt.State that discards what is written.
type fmtState struct{}

func (fmtState) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (fmtState) Width() (int, bool)          { return 0, false }
func (fmtState) Precision() (int, bool)      { return 0, false }
func (fmtState) Flag(int) bool               { return false }

func callRecover(fn reflect.Value, args []reflect.Value) (out []reflect.Value, panicked any) {
	defer func() { panicked = recover() }()
	if fn.Type().IsVariadic() {
		return fn.Call(args), nil // the variadic part left empty
	}
	return fn.Call(args), nil
}

func returnsError(mt reflect.Type) bool {
	return mt.NumOut() > 0 && mt.Out(mt.NumOut()-1) == reflect.TypeFor[error]()
}

func lastError(out []reflect.Value) error {
	if len(out) == 0 {
		return nil
	}
	err, _ := out[len(out)-1].Interface().(error)
	return err
}

// TestNoPanicInExportedFuncs calls every exported function with zero
// arguments (and its variadic part empty).
func TestNoPanicInExportedFuncs(t *testing.T) {
	t.Chdir(t.TempDir())
	for name, fn := range exportedFuncs {
		v := reflect.ValueOf(fn)
		var args []reflect.Value
		for i := range v.Type().NumIn() {
			if v.Type().IsVariadic() && i == v.Type().NumIn()-1 {
				break
			}
			args = append(args, zeroArg(v.Type().In(i), nil))
		}
		out, panicked := callRecover(v, args)
		if !assert.Nil(t, panicked, "%s panicked", name) {
			continue
		}
		if err := lastError(out); err != nil && !prefixPending[name] {
			assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), "%s: %q", name, err)
		}
	}
}

// The cases issue 9 names, spelled out.
func TestNilArgumentsAreInvalidArguments(t *testing.T) {
	var nilClient *Client
	c := newTestClient(t, "http://127.0.0.1:1")
	ctx := context.Background()
	a2 := decodeVisura(t, "visura_a2.json")
	calls := map[string]func() error{
		"nil client GetVisura": func() error { _, err := nilClient.GetVisura(ctx, "abc"); return err },
		"nil client Submit":    func() error { _, err := nilClient.Submit(ctx, a2, validA2Values(t)); return err },
		"zero client":          func() error { _, err := new(Client).ListVisure(ctx); return err },
		//lint:ignore SA1012 a nil context is what is checked
		"Wait nil context":    func() error { _, err := c.Wait(nil, "abc"); return err }, //nolint:staticcheck
		"Submit nil visura":   func() error { _, err := c.Submit(ctx, nil, Values{}); return err },
		"Submit nil values":   func() error { _, err := c.Submit(ctx, a2, nil); return err },
		"DryRun nil values":   func() error { _, err := c.DryRun(ctx, a2, nil); return err },
		"Reconcile nil value": func() error { _, err := c.Reconcile(ctx, a2.HashVisura, nil, time.Now()); return err },
		"Resume empty id":     func() error { _, err := c.Resume(ctx, ""); return err },
		"Recover nil journal": func() error { _, err := c.Recover(ctx, nil); return err },
		"nil richiesta Total": func() error { _, err := (*Richiesta)(nil).Total(); return err },
		"nil dry run Total":   func() error { _, err := (*DryRunResult)(nil).Total(); return err },
	}
	for name, call := range calls {
		err := call()
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
		var se *SubmitError
		assert.False(t, errors.As(err, &se), "%s: a local argument error is not a SubmitError", name)
	}
	assert.True(t, slices.Contains(exportedTypes, reflect.TypeFor[Client]()))
}

// A nil option in a variadic list is skipped (or, where options return an
// error, refused), never called: the walks above leave the variadic parts
// empty.
func TestNilOptionsNeverPanic(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope("x.zip", len(doc), doc))
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	calls := map[string]func() error{
		"Validate":          func() error { return a2.Validate(validA2Values(t), nil) },
		"DownloadDocumento": func() error { _, err := c.DownloadDocumento(ctx, docID, io.Discard, nil); return err },
		"GetDocumento":      func() error { _, err := c.GetDocumento(ctx, docID, nil); return err },
		"DownloadToFile": func() error {
			_, err := c.DownloadToFile(ctx, docID, t.TempDir()+"/doc.zip", nil)
			return err
		},
		"OpenZip": func() error { _, err := OpenZip(bytes.NewReader(doc), int64(len(doc)), nil); return err },
		"Submit WithValidation(nil)": func() error {
			_, err := c.Submit(ctx, a2, Values{}, WithValidation(nil))
			return err
		},
	}
	for name, call := range calls {
		var err error
		_, panicked := callRecover(reflect.ValueOf(func() { err = call() }), nil)
		if assert.Nil(t, panicked, "%s panicked", name) && name != "Submit WithValidation(nil)" {
			assert.NoError(t, err, name)
		}
	}
}
