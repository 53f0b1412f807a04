// Package visengine is the Go SDK for Openapi's Visengine 2.0 API, through
// which a Go backend requests Italian official documents and filings:
// visure camerali and catastali, and Patronato filings such as the "Domanda
// Esame A2 per Carta di Soggiorno". It covers the catalogue, each
// document's fields, rule and price, the paid request (the richiesta), its
// progress, the callback Visengine posts when it is done, and the produced
// zip.
//
// The package keeps three promises: a paid call is made at most once per
// logical submission, nothing sensitive (token, field values, document
// bytes, callback secrets) leaves through logs or errors, and bad input
// from the server or the user gives a typed error, never a panic.
//
// Names follow the wire: Go types and fields are Visengine's Italian names
// in CamelCase (stato_richiesta is [Richiesta.StatoRichiesta]), so the
// vendor's documentation maps one to one; the Glossary section below says
// what each term means. Verbs, options and errors are English.
//
// # Getting started
//
// Build one [Client] with [NewClient] and share it; it is safe for
// concurrent use. It talks to production by default, to the sandbox with
// [WithSandbox], and to any other server (a proxy, the fake of
// [github.com/visengine-go/visengine/visenginetest]) with [WithBaseURL].
// Every call takes a context first and returns as soon as it ends. There
// is no total timeout besides the context's, but an attempt that sends and
// receives nothing for [DefaultStallTimeout] (60s; [WithStallTimeout]) is
// cut with [ErrStalled]; a download that keeps flowing is never cut.
// [Client.CloseIdleConnections] releases a client's connections when it is
// dropped.
//
// The journey of one document, here the A2 exam filing:
//
//	c, err := visengine.NewClient(os.Getenv("VISENGINE_TOKEN"))
//	// fields, rule and price of the service
//	v, err := c.GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b")
//	// the applicant, by the labels users see
//	values := visengine.Values{}
//	err = values.SetField(v, "CODICE FISCALE", "RSSMRA80A01H501U")
//	// … the other fields
//	err = v.Validate(values) // free and local; Submit runs it too
//	r, err := c.Submit(ctx, v, values, visengine.WithOpzioni("urgenza")) // paid once
//	r, err = c.Wait(ctx, r.ID) // or a callback
//	info, err := c.DownloadToFile(ctx, r.ID, "out/"+r.ID+".zip")
//
// (each err is checked in real code; see the examples of each method).
//
// [Client.ListVisure] lists the catalogue (GET /visure) and
// [Client.GetVisura] reads one service (GET /visure/{hash}):
// [Visura.Fields] lists its fields in display order, [Visura.Total] prices
// it with options, exactly ([Price], in millionths of a euro). The lower-level calls map one
// to one to the API: [Client.CreateRichiesta], [Client.GetRichiesta],
// [Client.ListRichieste], [Client.UpdateRichiesta], [Client.CloseRichiesta],
// [Client.UpdateAndCloseRichiesta], [Client.AddRicerca],
// [Client.ChooseRisultato], [Client.DownloadDocumento].
//
// The examples directory of the repository holds runnable programs
// (go run ./examples/quickstart) that work with no account: with neither
// VISENGINE_URL nor VISENGINE_TOKEN set they start an embedded fake server.
//
// # Authentication
//
// Every call carries a bearer token. A fixed one is NewClient's argument.
// To work from an Openapi account (its e-mail and API key) instead, let
// package [github.com/visengine-go/visengine/oauth] create and renew the
// token: [WithTokenSource] makes the client ask a [TokenSource] for its
// token before every attempt, and NewClient's token argument is then "":
//
//	account, err := oauth.NewClient(email, apiKey) // and oauth.WithSandbox() with WithSandbox()
//	ts, err := oauth.NewTokenSource(account)       // oauth.WithStore keeps it across restarts
//	c, err := visengine.NewClient("", visengine.WithTokenSource(ts))
//
// With a [TokenRenewer] (oauth's TokenSource is one), a call answered 401
// renews the token, once for all the calls refused with that token, and is
// sent once more; a second 401 is returned as an [*APIError] matching
// [ErrUnauthorized]. This holds for the paid calls too, which are otherwise
// never sent twice: a 401 means the gateway refused the request before
// anything was applied.
//
// A token's scopes ([Token.Scopes], "METHOD:host/first-segment") say which
// calls it may make. When the source knows them, a call they do not cover
// fails before anything is sent, with an error matching [ErrMissingScope]
// that names the scope ([ScopeFor] builds it), as Openapi's PHP SDK does.
// The host is the Visengine host the token was made for, not necessarily
// the base URL's: visengine2.altravia.com for ProductionURL,
// test.visengine2.altravia.com (the sandbox's "test." prefix) for
// SandboxURL, and for any other base URL (a proxy, the fake) the one
// Visengine host the token's own scopes name, or the one [WithScopeHost]
// gives. When it cannot be told, the server judges.
//
// [WithCreditCheck] makes [Client.Submit] read the wallet first (a
// [CreditSource]; oauth's Client is one) and stop with an error matching
// [ErrInsufficientCredit], before the draft is created, when the credit is
// below the total price. The check is advisory: the credit can change
// between the check and the close, whose 402 stays the final word.
//
// # Validation before paying
//
// A wrong submission costs money and days of an operator's time, so
// [Visura.Validate] checks an applicant locally before anything is sent:
// the service's validazione rule over the filled fields, and the format of
// every filled field by its tipo (codice fiscale with its check character
// and omocodia, partita IVA, e-mail, dates, comune, provincia, inline files
// up to [DefaultMaxFileSize]). [Client.Submit] runs the same check first.
//
// It returns a [*ValidationError] listing every problem at once, and never
// the values themselves, so it is safe to log. [ValidationError.Problems]
// turns it into a list of [Problem] (key, field name, a stable [ProblemCode]
// such as "missing" or "check_char", and a reason in English), ready to
// send back as an HTTP 422 answer; [ValidationError.ProblemsIn] gives them
// in Italian ([Italian]) or English, and [Problem.Message],
// [Explanation.Describe], [SubmitOutcome.Message] and [Stato.Message] say
// the rest of what an applicant or an operator reads in either language
// (messages are tables keyed by stable codes). Package form serves a whole
// intake page built on these. [Values.SetField] fills a field by the
// label users see; [FileValue] and [FileValueBase64] build the inline form
// Visengine expects for files.
//
// A rule that cannot be checked locally (it does not parse, or names a
// field the service lacks) does not block: the server will judge it. Pass
// [WithStrict] to refuse it instead ([ErrRuleUnsupported]). [ParseRule],
// [Rule.Eval] and [Rule.Explain] expose the rule itself, for forms that
// show which fields are still needed.
//
// [Client.DryRun] goes one step further without paying: the server
// validates and prices the richiesta ("test": true) and deletes it at
// once. Its [DryRunResult] echoes the richiesta as the server saw it; that
// richiesta's ID cannot be read back (it answers 404).
//
// # Exactly once and unknown outcomes
//
// Visengine has no idempotency key, so a paid call that is resent may be
// paid twice. The SDK therefore never resends a POST or PUT once it may
// have reached the server: it retries only failures that provably happened
// before anything was sent (dial, DNS, TLS handshake), and safe reads. When
// it cannot know what the server did, it says so with an
// [*OutcomeUnknownError] (matching [ErrOutcomeUnknown]), with the call's
// method, path and the time it was sent. When it can prove that nothing
// left the process, for example because the context was already
// cancelled, the error matches [context.Canceled] or
// [context.DeadlineExceeded] instead.
//
// [Client.Submit] is the safe way to pay. It creates a free draft
// (state 0), then sends one closing PUT (state 1), which charges the
// wallet. A failure is a [*SubmitError] whose Step ([SubmitStep]:
// [StepDraft] or [StepClose]) says which call failed, whose ID names the
// draft once it exists, and whose Ref is the submission's client
// reference:
//
//   - the draft's outcome is unknown: nothing was charged. Submitting again
//     is free; [Client.Reconcile] finds the lost draft, if it exists, and
//     never guesses.
//   - the close's outcome is unknown: a gateway may have given up while the
//     backend commits. Submit read the richiesta back once; it never closes
//     again. No other close is sent for that richiesta until the settle
//     time ([WithCloseSettle], two minutes by default) has passed since
//     the last one was sent (SubmitError.CloseSentAt). Then
//     [Client.Resume] reads it back and closes it only if it is still a
//     draft. Never submit again.
//
// A close answered "success" whose richiesta does not read closed, or
// reads as another richiesta, is an unknown outcome too. Resume answers a
// [Resolution] ([ResolutionStatus]: completed, resumed, pending until
// RetryAt, failed, abandoned or unknown). It closes only when it knows
// whether and when a close was sent: from the journal, or from the caller
// ([WithCloseSentAt], or [WithNoCloseSent] to assert that none was).
//
// A [Journal] ([WithJournal]) makes this survive crashes and replicas:
// Submit records each step before it is taken (the intent, with a keyed
// digest of the values but never the values; the draft's id; "close sent at T";
// the outcome), and stops if a write fails. [Client.Recover] claims the
// unfinished entries with a lease, so that replicas never work on the same
// one, and resolves each from the server: closed, completed; a draft,
// closed once, resumed; a draft never confirmed, abandoned (nothing was
// charged; submit again); anything unproven, unknown. Run it at start-up
// and periodically, on every replica. Package
// [github.com/visengine-go/visengine/journal] has a directory journal for
// one process and a PostgreSQL one for several; its documentation gives
// the schema.
//
// [Client.Reconcile] matches a lost POST exactly: only richieste of the
// service created at or after it was sent (less a clock skew,
// [WithReconcileSkew]), each read once, at most [WithReconcileMaxReads] of
// them, by the client reference Submit puts in callback_data
// ([CallbackRefKey], [WithReconcileRef]) and otherwise by values. A
// candidate whose values cannot be read is never guessed. It answers
// [ErrNotFound] only for a lost draft ([WithReconcileDraft]), whose absence
// is safe to act on; for a paid POST the list may lag, so an absence is
// never conclusive. [Client.CreateRichiesta] with [StateSubmitted] is a
// paid call in one step; after an unknown outcome, use Reconcile before
// anything else.
//
// [WithHTTPClient] must be given a transport that sends each request once:
// it refuses go-retryablehttp's, which would resend a paid call below the
// SDK.
//
// # One applicant, once: idempotency keys and rate limits
//
// A double click, a front-office retry or a batch run again after a crash
// calls Submit twice for one applicant. [WithIdempotencyKey] names the
// applicant: for one key at most one submission is ever made and paid,
// within the client without a journal and across every process and
// replica sharing one with it. The same key returns the first
// submission's result (read back), finishes its draft if its close was
// refused or is in doubt, and fails with [ErrIdempotencyKeyReused] when
// given other values; [WithSubmitInfo] tells a replay from a new payment.
// The journal holds no key nor value: its Ref and digest are HMACs under
// a secret it keeps apart from the entries ([Journal].DigestSecret,
// [IdempotencyRef], [KeyedJournalDigest]). The client remembers the closes
// it sent, so [Client.Resume] waits the settle time from the latest one
// whatever time it is given; Resume and Recover close only a draft proven
// to be the entry's. Times are taken on the journal's clock
// ([Journal].JournalNow: a shared journal's store's). Both are methods of
// [Journal] itself, not optional interfaces, so a journal you wrap in a
// type of your own (for metrics or tracing, embedding [Journal] and
// overriding a method) keeps its secret and its clock.
//
// A 429 is a refusal, never an unknown outcome: Submit, Resume and Recover
// wait the server's Retry-After ([APIError].RetryAfter) and send the step
// again ([WithRateLimitRetry]); [WithRateLimit] paces every request of a
// client to stay under the account's limit.
//
// # Waiting, callbacks and documents
//
// Documents are made by operators and may take hours. [Client.Wait] polls
// GET /richiesta/{id} with a capped, jittered backoff ([WithPollInterval],
// [WithOnChange]) until the document is ready, search results wait for a
// choice ([Client.ChooseRisultato]), the search failed
// ([*SearchFailedError]) or the richiesta was cancelled
// ([*CancelledError]).
//
// Or let Visengine call back: make ONE [Callback] with [NewCallback] when
// the application is set up, store its Secret next to the token, rebuild it
// with [NewCallbackWithSecret] after a restart, send it with every
// richiesta ([WithCallback]) and serve [CallbackHandler] with that secret
// and the client ([WithCallbackClient]). The handler refuses deliveries
// without the secret. The secret is static and echoed in every delivery,
// so it proves neither origin nor freshness: with the client, the handler
// treats each delivery as a hint, reads the richiesta back with the SDK's
// own token and hands your function what the API says; repeats of an event
// already handled are acknowledged without calling it again, or reading it
// back. A flood costs the API little: one read per richiesta in flight,
// at most [WithCallbackRereadLimit] at once, none retried, and a 503 with
// Retry-After to the sender beyond that. Replicas share the memory of
// handled events through [WithCallbackDedupeStore] (the PostgreSQL
// journal's CallbackDedupe), so a delivery reaching two of them calls your
// function once.
//
// The document is a zip inside the JSON answer of GET /documento/{id}.
// [Client.DownloadDocumento] streams it to an [io.Writer] in memory that
// does not grow with it, [Client.DownloadToFile] saves it (creating missing
// folders, replacing the file only when the whole document has arrived)
// and [Client.GetDocumento] keeps a small one in memory. [OpenZip] and
// [OpenZipFile] refuse unsafe archives (path traversal, links, duplicates,
// bombs) before anything is read, and [ZipArchive.ExtractTo] never writes
// outside its folder.
//
// # Errors
//
// Every failure is typed; use [errors.Is] with the sentinels and
// [errors.As] with the types.
//
// An answer that is not a success is an [*APIError]: the call's Method and
// Path, the HTTP StatusCode, Visengine's numeric Code (a [Code], such as
// [CodeWrongHash] or [CodeInsufficientCredit]) and the server's Message as
// sent. It prints as
//
//	visengine: GET /visure/xyz: HTTP 400 (Visengine error 200): wrong hash_visura
//
// and matches the sentinel its status and code stand for:
//
//   - [ErrNotFound]: the service, richiesta or document does not exist
//   - [ErrUnauthorized]: the token is missing, wrong, expired or lacks the scope
//   - [ErrInsufficientCredit]: the wallet cannot pay (402)
//   - [ErrInvalidRequest]: the server refused the input (400, 412, 428)
//   - [ErrAlreadyClosed]: the richiesta was closed already (also [ErrConflict])
//   - [ErrNotFinalized]: AddRicerca on a draft (404, code 221; also
//     [ErrConflict], never ErrNotFound: the richiesta exists)
//   - [ErrDocumentNotReady]: the document is not made yet (422, code 247)
//   - [ErrConflict], [ErrRateLimited], [ErrServer]: 409, 429, 5xx
//   - [ErrUnexpectedResponse]: not a Visengine answer at all (an HTML page,
//     a truncated body, a redirect), or data the SDK does not understand:
//     then the APIError unwraps to a [*ShapeError] naming the key. Decoding
//     reads PHP's empty shapes (null, false, "", [], {}) as nothing, and
//     reads numbers sent as text, dates as text, keyed objects as lists and
//     JSON inside a string; any other shape is refused, never read as a
//     zero value.
//
// [APIError.Temporary] says whether the same call may succeed later.
// Besides those:
//
//   - [*OutcomeUnknownError] ([ErrOutcomeUnknown]): a paid call may or may
//     not have been applied; see above.
//   - [*SubmitError]: which step of Submit failed, the draft's ID and,
//     after an unknown close, when it was sent (finish with Resume).
//   - [*ValidationError] ([ErrInvalidFields]): local checks, before any
//     request.
//   - [ErrInvalidArgument]: an argument was refused before any request (an
//     empty id, a nil context, an option out of range).
//   - [ErrStalled]: an attempt moved no byte for the stall timeout; it also
//     matches [os.ErrDeadlineExceeded]. A read is retried first; a paid
//     call cut this way is an [*OutcomeUnknownError].
//   - [ErrMissingScope]: the token's scopes lack the call's; nothing was
//     sent. [ErrInsufficientCredit] without a [*SubmitError]: the
//     [WithCreditCheck] check refused to pay; nothing was sent.
//   - [*CancelledError] ([ErrCancelled]) and [*SearchFailedError]
//     ([ErrSearchFailed]) from Wait; [*PartialDownloadError],
//     [ErrIntegrity], [ErrNotZip], [ErrResponseTooLarge] and [*ZipError]
//     ([ErrUnsafeZip]) from downloads and zips.
//
// # Privacy
//
// The SDK handles tokens, personal data and scans of identity documents.
// Nothing is logged unless [WithLogger] is given; then one line per attempt
// with method, path, status, attempt and duration only. The token, field
// values, document bytes and callback secrets never appear in a log line,
// an error string or %v, %+v and %#v output: [Client], [Token], [Values]
// (keys only), [Richiesta], [RichiestaSummary], [Ricerca], [Risultato],
// [Esito], [RichiestaParams], [UpdateParams], [Callback], [CallbackEvent],
// [DryRunResult] and [Documento] format without them, and each is a
// [log/slog.LogValuer] that logs the same summary. Server messages are
// cleaned of control, bidi and line-separator characters and capped before
// they are printed, a 412's message, which may echo the input, is cut, and
// the token and every string the call sent are taken out of the message
// ([APIError.Message] included) when the answer is decoded. URLs in errors are shown
// without userinfo and query.
//
// slog asks only the value it is handed for its LogValue. A []Richiesta, a
// map[string]Values or a struct of yours holding a Richiesta is marshalled
// field by field by slog's JSON handler (as by [encoding/json]), personal
// data and secrets included; the SDK cannot change that without breaking
// json.Marshal for those who store these types. Log copies made by
// [Richiesta.Redacted], [RichiestaSummary.Redacted] and [Values.Redacted]
// instead. slog's text handler prints with %+v, which uses Format at every
// depth.
//
// Files the SDK writes ([Client.DownloadToFile], [ZipArchive.ExtractTo])
// are readable by their owner only (mode 0600).
//
// # Testing with visenginetest
//
// [github.com/visengine-go/visengine/visenginetest] is a fake Visengine in
// the test process, in the manner of net/http/httptest: the real catalogue
// of 92 services, envelopes, status and error codes, drafts, charges
// against a wallet, progress, search results, callbacks and a real zip with
// a PDF. Faults reproduce the network's worst days, including a gateway
// that loses the answer after the backend applied the call:
//
//	srv := visenginetest.NewServer(visenginetest.WithWallet(5000)) // €50.00
//	defer srv.Close()
//	c := srv.Client() // a *visengine.Client pointed at the fake
//
//	srv.Fault(http.MethodPut, "/richiesta/{id}", visenginetest.Fault{Drop: visenginetest.DropAfterApply})
//	r, err := c.Submit(ctx, v, values) // reads back instead of paying twice
//	count, total := srv.Charges()      // 1, €20.00
//	srv.Complete(r.ID)                 // the operator finishes; or WithAutoAdvance
//
// The fake also serves Openapi's OAuth service (v2 at its OAuthURL, v1 at
// OAuthV1URL) for its account's Email and APIKey: tokens it issues are
// accepted within their scopes and expire, and its wallet is the one
// Visengine charges, so a TokenSource, renewals after a 401 and the credit
// check can be tested end to end.
//
// The command cmd/visengine-fake serves the same fake for clients in any
// language and prints VISENGINE_URL and VISENGINE_TOKEN to export (and
// OPENAPI_OAUTH_URL, OPENAPI_EMAIL and OPENAPI_APIKEY for its account). Read
// VISENGINE_URL wherever VISENGINE_TOKEN is read (the examples do), so the
// fake's token never reaches production.
//
// # Glossary
//
// Visengine's Italian terms, as they appear on the wire and in this
// package:
//
//   - visura: a document or filing the catalogue offers (a company report,
//     a land-registry extract, the A2 exam filing); [Visura] is its
//     structure and price, [VisuraSummary] its catalogue entry.
//   - hash_visura: the opaque 32-character id of a visura.
//   - richiesta: one request for a visura, paid once closed; [Richiesta].
//   - state: whether a richiesta is a free, editable draft (0) or submitted
//     and charged (1); [State].
//   - stato (stato_richiesta): a richiesta's progress ("In ricerca", "In
//     erogazione", "Dati disponibili", "Visura evasa", "Annullata"); [Stato].
//   - in erogazione: being worked on; dati disponibili: the document is
//     ready; evasa: fulfilled; annullata: cancelled by the operator.
//   - json_struttura: a visura's form: its campi, validazione rule and
//     istruzioni; [Struttura].
//   - campo: one field of the form, keyed "$0", "$1", …; [Campo]. Its nome
//     is the label users see, its tipo the kind of value, its ordine the
//     display position.
//   - validazione: the boolean rule over the keys that says which
//     combinations of filled fields are enough; [Rule].
//   - json_visura: the applicant's values by key; [Values].
//   - opzione: a paid extra of a visura, such as urgenza (priority) or
//     assistenza dedicata; [Opzione], chosen with [WithOpzioni].
//   - prezzo: a price in euro (prezzo_visura, prezzo_ricerca); [Price].
//   - ricerca: a search step: some services first search a register and
//     let the caller choose the subject; [Ricerca]. HasRicerca says a
//     service has one.
//   - risultato: one candidate found by a ricerca (json_risultato,
//     "indice_N"); [Risultato], chosen with [Client.ChooseRisultato].
//   - stato_ricerca: a ricerca's outcome ("Ricerca evasa", "Errore su
//     richiesta dati"); [StatoRicerca].
//   - esito: the provider's outcome code and message; [Esito].
//   - allegato: a file the richiesta produced; Richiesta.Allegati lists
//     their names.
//   - documento: the zip holding the allegati, from GET /documento/{id};
//     [Documento], [DocumentoInfo] (nome, dimensione: name and size).
//   - callback_data: where Visengine posts the richiesta when it is done;
//     [Callback]. Not the wire's "callback", an internal provider routine
//     ([Richiesta.ProviderRoutine]).
//   - email_target: an address the document is also e-mailed to.
//   - istruzioni: instructions for the applicant, base64 HTML on the wire;
//     [Struttura.IstruzioniHTML].
//   - codice fiscale, partita IVA: the Italian personal tax code and VAT
//     number, checked by [Visura.Validate].
//   - CAF, Patronato: the tax and welfare assistance centres that file on
//     applicants' behalf, this package's main users.
package visengine
