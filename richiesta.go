package visengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Stato is a richiesta's progress (stato_richiesta). Values other than the
// constants are kept as they come, so a new state does not break decoding.
type Stato string

// The states Visengine documents, in the order a richiesta goes through them.
const (
	StatoInRicerca       Stato = "In ricerca"       // a search step is running or awaits a choice
	StatoInErogazione    Stato = "In erogazione"    // the document is being produced
	StatoDatiDisponibili Stato = "Dati disponibili" // data ready, the document can be downloaded
	StatoVisuraEvasa     Stato = "Visura evasa"     // done
	StatoAnnullata       Stato = "Annullata"        // cancelled
)

// DocumentReady reports whether GET /documento can succeed.
func (s Stato) DocumentReady() bool { return s == StatoDatiDisponibili || s == StatoVisuraEvasa }

// Terminal reports whether the richiesta will not change any more.
func (s Stato) Terminal() bool { return s == StatoVisuraEvasa || s == StatoAnnullata }

// Known reports whether s is one of the documented states.
func (s Stato) Known() bool {
	switch s {
	case StatoInRicerca, StatoInErogazione, StatoDatiDisponibili, StatoVisuraEvasa, StatoAnnullata:
		return true
	}
	return false
}

// State is a richiesta's transaction state (its "state" field): a draft or
// closed. Progress after closing is StatoRichiesta, a Stato.
type State int

// Transaction states of a richiesta.
const (
	StateDraft     State = 0 // open: fields editable, nothing validated or charged
	StateSubmitted State = 1 // closed: validated, charged and started
)

// String names the state ("draft", "submitted"), or its number when unknown.
func (s State) String() string {
	switch s {
	case StateDraft:
		return "draft"
	case StateSubmitted:
		return "submitted"
	}
	return strconv.Itoa(int(s))
}

// Richiesta is a request for a document (GET /richiesta/{id}). Its Format
// prints identifiers and progress only: the applicant's values, the owner's
// address and the callback secret are left out of %v and %+v.
//
// Its fields are the wire's, named as RichiestaSummary's (the list's
// entries have a subset of them).
type Richiesta struct {
	ID                  string         // _id
	State               State          // StateDraft or StateSubmitted
	HashVisura          string         // the service
	Nome                string         // the service's name when requested
	ProviderRoutine     string         // wire "callback": Visengine's internal provider routine, not a webhook (see CallbackData)
	HasRicerca          bool           // wire "ricerca": the service has a search step
	IDRicerca           string         // the chosen search, "" until chosen
	PrezzoVisura        Price          // price of the document
	PrezzoRicerca       Price          // price of the search step
	IndiceRicerca       *int           // the chosen result, nil until chosen
	StatoRichiesta      Stato          // progress
	EmailTarget         string         // where the document is e-mailed, "" if nowhere
	Allegati            []string       // names of the produced files
	TimestampCreation   time.Time      // creation
	TimestampLastUpdate time.Time      // last change
	TimestampStati      TimestampStati // when each state was reached
	CallbackData        *Callback      // the callback asked for; nil when the wire has false
	Opzioni             []Opzione      // chosen options, as far as the wire tells
	Owner               string         // the account's e-mail
	Sincrona            bool           // undocumented by Visengine
	Ricerche            []Ricerca      // the searches, the first being the submitted values
	Esito               Esito          // the provider's outcome
	MotivoAnnullamento  string         // why it was cancelled (legacy, may be absent)

	// unpricedOpzioni marks Opzioni decoded from the wire's object form
	// ({"opzione_0": true}), which names the options but not their prices.
	unpricedOpzioni bool
}

// Total is what closing the richiesta costs, or cost: PrezzoVisura plus the
// price of each chosen option in Opzioni, summed exactly in cents. It does
// not include PrezzoRicerca, which a service with a search step charges
// separately, for each search added (AddRicerca) and when a result is
// chosen (ChooseRisultato). This is what visenginetest charges on close.
//
// Visengine lists the chosen options either with their prices or only by
// nome ({"opzione_0": true}); in the second form the total cannot be known
// and Total returns an error wrapping ErrUnexpectedResponse rather than a
// guess (Visura.Total, with the same options, prices them from the
// catalogue). An amount out of range wraps ErrBadPrice.
func (r *Richiesta) Total() (Price, error) {
	if r == nil {
		return 0, invalidArg("richiesta", "is nil")
	}
	if r.unpricedOpzioni && len(r.Opzioni) > 0 {
		return 0, errorf("%w: richiesta %s lists its opzioni without their prices", ErrUnexpectedResponse, r.ID)
	}
	total := r.PrezzoVisura
	if !total.inRange() {
		return 0, errorf("%w: prezzo_visura out of range", ErrBadPrice)
	}
	for _, o := range r.Opzioni {
		// Both terms are within ±MaxPriceCents, so the sum cannot overflow.
		if !o.Prezzo.inRange() || !(total + o.Prezzo).inRange() {
			return 0, errorf("%w: total out of range", ErrBadPrice)
		}
		total += o.Prezzo
	}
	return total, nil
}

// DocumentReady reports whether the document can be downloaded.
func (r *Richiesta) DocumentReady() bool { return r != nil && r.StatoRichiesta.DocumentReady() }

// Terminal reports whether the richiesta will not change any more.
func (r *Richiesta) Terminal() bool { return r != nil && r.StatoRichiesta.Terminal() }

// SearchResultsReady reports whether a search step waits for a choice: the
// richiesta is "In ricerca" and its last search is done with results.
func (r *Richiesta) SearchResultsReady() bool {
	last := r.LastRicerca()
	return last != nil && r.StatoRichiesta == StatoInRicerca &&
		last.StatoRicerca == RicercaEvasa && len(last.Risultati()) > 0
}

// LastRicerca returns the most recent search, or nil.
func (r *Richiesta) LastRicerca() *Ricerca {
	if r == nil || len(r.Ricerche) == 0 {
		return nil
	}
	return &r.Ricerche[len(r.Ricerche)-1]
}

// Format prints a summary without personal data, for every verb.
func (r Richiesta) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.Richiesta{ID:%s State:%d HashVisura:%s Stato:%q Prezzo:%s Allegati:%d Ricerche:%d}",
		r.ID, r.State, r.HashVisura, r.StatoRichiesta, r.PrezzoVisura, len(r.Allegati), len(r.Ricerche))
}

// TimestampStati says when each state was reached; zero when not (yet).
type TimestampStati struct {
	InRicerca       time.Time
	InErogazione    time.Time
	DatiDisponibili time.Time
	VisuraEvasa     time.Time
	Annullata       time.Time
}

// At returns when s was reached, or the zero time.
func (t TimestampStati) At(s Stato) time.Time {
	switch s {
	case StatoInRicerca:
		return t.InRicerca
	case StatoInErogazione:
		return t.InErogazione
	case StatoDatiDisponibili:
		return t.DatiDisponibili
	case StatoVisuraEvasa:
		return t.VisuraEvasa
	case StatoAnnullata:
		return t.Annullata
	}
	return time.Time{}
}

// Esito is the provider's outcome: codice "0" and info "OK" on success.
type Esito struct {
	Codice string `json:"codice"`
	Info   string `json:"info"`
}

// StatoRicerca is a search's state (stato_ricerca). Values other than the
// constants are kept as they come.
type StatoRicerca string

// States of a search seen on the wire.
const (
	RicercaEvasa  StatoRicerca = "Ricerca evasa"            // done
	RicercaErrore StatoRicerca = "Errore su richiesta dati" // the input found nothing or was refused
)

// Ricerca is one search of a richiesta. Its JSON fields are kept as
// Visengine sent them: json_ricerca and json_risultato come as JSON inside
// strings (JSONRicerca, JSONRisultato), json_mappato as an object
// (JSONMappato). Valori, Mappato and Risultati decode them when asked, each
// call afresh (keep the result rather than call them in a loop); an
// undecodable one gives nil rather than failing the whole richiesta.
type Ricerca struct {
	IDRicerca     string          // "<_id>_<n>"
	StatoRicerca  StatoRicerca    // RicercaEvasa, RicercaErrore or another value
	JSONRicerca   string          // the submitted values, as JSON text
	JSONMappato   json.RawMessage // each field's nome mapped to its value, as sent; nil unless an object
	JSONRisultato string          // candidate results, as JSON text ("" when null)
}

// Valori returns the submitted values (JSONRicerca decoded; numbers are
// kept as their text), or nil when JSONRicerca is not a JSON object.
func (r *Ricerca) Valori() Values {
	if r == nil {
		return nil
	}
	return decodeValori(r.JSONRicerca)
}

// Mappato returns JSONMappato decoded: each field's nome ("Codice
// Fiscale") mapped to its value; nil when there is none.
func (r *Ricerca) Mappato() map[string]any {
	if r == nil || len(r.JSONMappato) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(r.JSONMappato, &m) != nil {
		return nil
	}
	return m
}

// Risultati returns the candidate results (JSONRisultato decoded), keyed by
// N of "indice_N", the number ChooseRisultato takes; nil when there are
// none or JSONRisultato cannot be read.
func (r *Ricerca) Risultati() map[int]Risultato {
	if r == nil {
		return nil
	}
	return decodeRisultati(r.JSONRisultato)
}

// Format prints the search's id and state only: its values are personal data.
func (r Ricerca) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.Ricerca{IDRicerca:%s StatoRicerca:%q Risultati:%d}", r.IDRicerca, r.StatoRicerca, len(r.Risultati()))
}

// Indici returns the result numbers in ascending order.
func (r *Ricerca) Indici() []int {
	if r == nil {
		return nil
	}
	risultati := r.Risultati()
	out := make([]int, 0, len(risultati))
	for n := range risultati {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// Risultato is one candidate of a search, with provider-specific keys such as
// Cciaa, NRea, Denominazione, CodFisc.
type Risultato map[string]any

// Text returns the value of key as text ("" when absent); nested objects
// such as NatGiu give their "!" text.
func (r Risultato) Text(key string) string {
	switch v := r[key].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["!"].(string)
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// RichiestaSummary is one entry of GET /richiesta.
type RichiestaSummary struct {
	ID                  string
	State               State
	HashVisura          string
	Nome                string
	HasRicerca          bool
	IDRicerca           string
	PrezzoVisura        Price
	PrezzoRicerca       Price
	IndiceRicerca       *int
	StatoRichiesta      Stato
	EmailTarget         string
	TimestampCreation   time.Time
	TimestampLastUpdate time.Time
	Owner               string
	Sincrona            bool
}

// Format prints identifiers and progress only, for every verb: the owner's
// and the target's e-mail addresses are left out of %v, %+v and %#v.
func (s RichiestaSummary) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.RichiestaSummary{ID:%s State:%d HashVisura:%s Stato:%q Prezzo:%s}",
		s.ID, s.State, s.HashVisura, s.StatoRichiesta, s.PrezzoVisura)
}

// RichiestaParams is what CreateRichiesta sends (POST /richiesta).
type RichiestaParams struct {
	HashVisura string // the service; required
	JSONVisura Values // the applicant's values by key
	// State is StateDraft (0, the zero value: nothing is charged) or
	// StateSubmitted (validated and charged at once). It is always sent,
	// because the server's default is to submit.
	State        State
	CallbackData *Callback // where Visengine should call back
	// EmailTarget is where to e-mail the document; "" sends no
	// email_target, and the richiesta has none (null). To remove one from a
	// draft later, see UpdateParams.ClearEmailTarget.
	EmailTarget string
	// Opzioni are the chosen options by nome ("opzione_0"), or by tipo
	// ("urgenza") when Visura is set.
	Opzioni []string
	// Visura, when set, resolves Opzioni given by tipo and refuses unknown
	// ones before anything is sent.
	Visura *Visura
}

// Format prints the service, the state and how much is set, for every verb:
// the values, the e-mail address and the callback (with its secret) are
// personal or secret and never printed; nor are the values' keys, since a
// value put where a key goes would show.
func (p RichiestaParams) Format(f fmt.State, _ rune) {
	visura := ""
	if p.Visura != nil {
		visura = p.Visura.HashVisura
	}
	fmt.Fprintf(f, "visengine.RichiestaParams{HashVisura:%s State:%d JSONVisura:%d values CallbackData:%t EmailTarget:%t Opzioni:%d Visura:%s}",
		p.HashVisura, p.State, len(p.JSONVisura), p.CallbackData != nil, p.EmailTarget != "", len(p.Opzioni), visura)
}

var optionNome = regexp.MustCompile(`^opzione_[0-9]+$`)

// richiestaBody is the JSON of POST /richiesta. Its fields are in the
// alphabetical order of their keys, so the bytes sent are those of the map
// it replaced; "state" and "test" are always sent, an empty but non-nil
// json_visura too.
type richiestaBody struct {
	CallbackData *Callback       `json:"callback_data,omitempty"`
	EmailTarget  string          `json:"email_target,omitempty"`
	HashVisura   string          `json:"hash_visura"`
	JSONVisura   Values          `json:"json_visura,omitzero"`
	Opzioni      map[string]bool `json:"opzioni,omitempty"`
	State        State           `json:"state"`
	Test         bool            `json:"test"` // a dry run: see Client.DryRun
}

// body checks p and builds what is sent; a CreateRichiesta is never a dry
// run.
func (p *RichiestaParams) body() (*richiestaBody, error) {
	if err := checkHash(p.HashVisura); err != nil {
		return nil, err
	}
	if p.State != StateDraft && p.State != StateSubmitted {
		return nil, invalidArg("state", "must be StateDraft or StateSubmitted")
	}
	b := &richiestaBody{HashVisura: p.HashVisura, State: p.State, JSONVisura: p.JSONVisura, EmailTarget: p.EmailTarget}
	if p.CallbackData != nil {
		if err := p.CallbackData.check(); err != nil {
			return nil, err
		}
		b.CallbackData = p.CallbackData
	}
	if len(p.Opzioni) > 0 {
		opz, err := resolveOptions(p.Visura, p.Opzioni)
		if err != nil {
			return nil, err
		}
		b.Opzioni = opz
	}
	return b, nil
}

func resolveOptions(v *Visura, names []string) (map[string]bool, error) {
	out := make(map[string]bool, len(names))
	for _, name := range names {
		if v != nil {
			o, ok := v.Opzione(name)
			if !ok {
				return nil, invalidArg("option", fmt.Sprintf("%q is not offered by this service", name))
			}
			name = o.Nome
		} else if !optionNome.MatchString(name) {
			return nil, invalidArg("option", fmt.Sprintf("%q is not an option nome (opzione_N); set Visura to choose by tipo", name))
		}
		out[name] = true
	}
	return out, nil
}

// CreateRichiesta creates a richiesta (POST /richiesta): a free draft with
// State StateDraft, or, with StateSubmitted, a paid one, validated and
// charged at once. A paid create is never resent once it may have reached
// the server, and an *OutcomeUnknownError then means "use Reconcile".
// Submit is the safer path; DryRun checks without paying.
func (c *Client) CreateRichiesta(ctx context.Context, p *RichiestaParams) (*Richiesta, error) {
	if p == nil {
		return nil, invalidArg("params", "are nil")
	}
	body, err := p.body()
	if err != nil {
		return nil, err
	}
	if p.State != StateSubmitted {
		return c.richiestaCall(ctx, http.MethodPost, "/richiesta", body)
	}
	// A paid create answered "success" must show the richiesta closed;
	// anything else hides what was charged, as for a close.
	var r closedRichiesta
	if err := c.call(ctx, http.MethodPost, "/richiesta", body, &r); err != nil {
		return nil, err
	}
	return &r.Richiesta, nil
}

func (c *Client) richiestaCall(ctx context.Context, method, path string, body any) (*Richiesta, error) {
	var r Richiesta
	if err := c.call(ctx, method, path, body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetRichiesta reads one richiesta (GET /richiesta/{id}): its state,
// progress, searches and, once ready, the names of its files.
func (c *Client) GetRichiesta(ctx context.Context, id string) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return c.richiestaCall(ctx, http.MethodGet, "/richiesta/"+id, nil)
}

// ListRichieste lists the account's richieste (GET /richiesta). Visengine
// answers an empty account with 404 (CodeNoRichieste); that is an empty
// list here. An entry that
// cannot be decoded does not hide the others: they are returned together
// with an error wrapping ErrUnexpectedResponse that counts the unreadable.
func (c *Client) ListRichieste(ctx context.Context) ([]RichiestaSummary, error) {
	l, err := c.listRichieste(ctx)
	if err != nil {
		return nil, err
	}
	out := l.ok
	if out == nil {
		out = []RichiestaSummary{}
	}
	if len(l.bad) > 0 {
		return out, errorf("%w: %d of %d richieste in the list could not be read", ErrUnexpectedResponse, len(l.bad), l.n)
	}
	return out, nil
}

// listEntry is one entry of GET /richiesta as Reconcile sees it: what
// could be read of it, even when it could not be decoded, so Reconcile can
// tell whether it might be the richiesta it looks for.
type listEntry struct {
	pos     int // in the list
	id      string
	hash    string
	created time.Time
}

func (c *Client) listRichieste(ctx context.Context) (*richiesteList, error) {
	var l richiesteList
	err := c.call(ctx, http.MethodGet, "/richiesta", nil, &l)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.Code == CodeNoRichieste {
		return &richiesteList{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// listEntries lists every entry of GET /richiesta, readable or not.
func (c *Client) listEntries(ctx context.Context) ([]listEntry, error) {
	l, err := c.listRichieste(ctx)
	if err != nil {
		return nil, err
	}
	return l.entries(), nil
}

// UpdateParams is the edits UpdateRichiesta and UpdateAndCloseRichiesta
// send (PUT /richiesta/{id}). What is left unset is left as it is.
type UpdateParams struct {
	// JSONVisura replaces all the values when non-nil.
	JSONVisura Values
	// Fields changes single values, sent as "json_visura.$N" keys.
	Fields Values
	// EmailTarget changes the address the document is e-mailed to; ""
	// leaves it as it is (see ClearEmailTarget).
	EmailTarget string
	// ClearEmailTarget removes the address, so the document is e-mailed
	// nowhere: "email_target": "" is sent. It cannot be combined with an
	// EmailTarget.
	ClearEmailTarget bool
}

// Format prints how much is set, for every verb: values, keys and the
// e-mail address are never printed.
func (p UpdateParams) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.UpdateParams{JSONVisura:%d values Fields:%d EmailTarget:%t ClearEmailTarget:%t}",
		len(p.JSONVisura), len(p.Fields), p.EmailTarget != "", p.ClearEmailTarget)
}

// body checks p and builds the PUT's JSON, with state as its "state". A map,
// because the "json_visura.$N" keys are dynamic.
func (p *UpdateParams) body(state State) (map[string]any, error) {
	if p == nil {
		return nil, invalidArg("params", "are nil")
	}
	if p.ClearEmailTarget && p.EmailTarget != "" {
		return nil, invalidArg("params", "set both EmailTarget and ClearEmailTarget")
	}
	body := map[string]any{"state": state}
	if p.JSONVisura != nil {
		body["json_visura"] = p.JSONVisura
	}
	for k, v := range p.Fields {
		if keyIndex(k) < 0 {
			return nil, invalidArg("field key", "must look like $N")
		}
		body["json_visura."+k] = v
	}
	if p.EmailTarget != "" || p.ClearEmailTarget {
		body["email_target"] = p.EmailTarget
	}
	return body, nil
}

// UpdateRichiesta edits a draft (PUT /richiesta/{id}) and leaves it open:
// "state": 0 is sent explicitly so an edit can never close (and pay for)
// the richiesta. UpdateAndCloseRichiesta edits and closes in one call.
func (c *Client) UpdateRichiesta(ctx context.Context, id string, p *UpdateParams) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	body, err := p.body(StateDraft)
	if err != nil {
		return nil, err
	}
	return c.richiestaCall(ctx, http.MethodPut, "/richiesta/"+id, body)
}

// closeBody is the JSON of the closing PUT /richiesta/{id}.
type closeBody struct {
	State State `json:"state"`
}

// CloseRichiesta submits a draft (PUT /richiesta/{id} with "state": 1): the
// server validates it, charges the wallet and starts the work. Paid; never
// resent once it may have reached the server. A success whose richiesta is
// not closed (state 1), or is another richiesta, proves nothing about the
// close, and is an *OutcomeUnknownError too: read it back before closing
// again, and not before the settle time (Resume keeps to it). Closing a
// richiesta closed already is refused with an *APIError matching
// ErrAlreadyClosed. The client remembers when it sent a close that may
// have been applied, and Resume waits the settle time from it. It checks nothing locally: when resuming a draft edited
// with UpdateRichiesta, run Visura.Validate on its values first, as Submit
// does.
func (c *Client) CloseRichiesta(ctx context.Context, id string) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	// Remembered before it is sent, so that Resume never closes again
	// within the settle time, whatever time its caller passes.
	prev := c.eo.closes.remember(id, time.Now())
	r, err := c.closeCall(ctx, id, closeBody{State: StateSubmitted})
	if !mayBeApplied(err) {
		c.eo.closes.forget(id, prev)
	}
	return r, err
}

// UpdateAndCloseRichiesta edits a draft and submits it in one call (PUT
// /richiesta/{id} with the edits and "state": 1, as in the spec's example
// {"json_visura.$0": "altravia", "state": 1}): the server applies the
// edits, validates, charges the wallet and starts the work. Paid, with
// CloseRichiesta's rules: never resent once it may have reached the server,
// an answer that does not show the richiesta closed is an
// *OutcomeUnknownError, and a richiesta closed already is refused with
// ErrAlreadyClosed (the edits are not applied). It checks nothing locally:
// run Visura.Validate on the values as they will be after the edits.
func (c *Client) UpdateAndCloseRichiesta(ctx context.Context, id string, p *UpdateParams) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	body, err := p.body(StateSubmitted)
	if err != nil {
		return nil, err
	}
	return c.closeCall(ctx, id, body)
}

// closeCall sends a closing PUT /richiesta/{id}. Its answer must show the
// richiesta closed: one that does not is undecodable as closedRichiesta,
// and a 2xx answer that cannot be decoded reaches the caller as an
// *OutcomeUnknownError (decodeResult), never as a plain failure; so is one
// that shows another richiesta.
func (c *Client) closeCall(ctx context.Context, id string, body any) (*Richiesta, error) {
	var r closedRichiesta
	path := "/richiesta/" + id
	if err := c.call(ctx, http.MethodPut, path, body, &r); err != nil {
		return nil, err
	}
	if err := checkClosed(id, &r.Richiesta); err != nil { // another richiesta
		// Sent at the latest now: the settle time runs from the latest.
		return nil, &OutcomeUnknownError{Method: http.MethodPut, Path: path, SentAt: time.Now(), Err: err}
	}
	return &r.Richiesta, nil
}

// closedRichiesta decodes a Richiesta that must be closed (state 1).
type closedRichiesta struct{ Richiesta }

// UnmarshalJSON decodes the richiesta and refuses a draft.
func (r *closedRichiesta) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &r.Richiesta); err != nil {
		return err
	}
	if r.State != StateSubmitted {
		return notClosedError{r.State}
	}
	return nil
}

// decodeWire is Richiesta's, with the same refusal: without it, the
// embedded Richiesta's would be promoted and skip the check.
func (r *closedRichiesta) decodeWire(w *wireReader) error {
	err := r.Richiesta.decodeWire(w)
	if w.err == nil && r.State != StateSubmitted {
		w.fail(notClosedError{r.State})
	}
	return err
}

// notClosedError is closedRichiesta's refusal. It matches
// ErrUnexpectedResponse, and its text has no prefix because it is printed
// inside the decoding error's.
type notClosedError struct{ state State }

func (e notClosedError) Error() string {
	return fmt.Sprintf("the answer shows the richiesta as %s (state %d), not closed", e.state, int(e.state))
}

func (e notClosedError) Is(target error) bool { return target == ErrUnexpectedResponse }

// ricercaBody is the JSON of POST /richiesta/{id}.
type ricercaBody struct {
	JSONVisura Values `json:"json_visura"`
}

// AddRicerca runs another search on a richiesta of a service with a search
// step (POST /richiesta/{id}), typically after the last one failed
// (ErrSearchFailed). Paid when the service has a PrezzoRicerca: Visengine
// answers a short wallet with 402 (CodeInsufficientCreditRicerca), and the
// call is never resent once it may have reached the server.
func (c *Client) AddRicerca(ctx context.Context, id string, values Values) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, invalidArg("values", "are empty")
	}
	return c.richiestaCall(ctx, http.MethodPost, "/richiesta/"+id, ricercaBody{JSONVisura: values})
}

// risultatoBody is the JSON of PUT /richiesta/{id}/ricerche.
type risultatoBody struct {
	IDRicerca string `json:"id_ricerca"`
	Indice    int    `json:"indice"`
}

// ChooseRisultato picks result indice of search idRicerca (PUT
// /richiesta/{id}/ricerche); the document is then produced. Paid: the
// search's price (PrezzoRicerca) is charged.
func (c *Client) ChooseRisultato(ctx context.Context, id, idRicerca string, indice int) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if err := checkID("id_ricerca", idRicerca); err != nil {
		return nil, err
	}
	if indice < 0 {
		return nil, invalidArg("indice", "must be >= 0")
	}
	body := risultatoBody{IDRicerca: idRicerca, Indice: indice}
	return c.richiestaCall(ctx, http.MethodPut, "/richiesta/"+id+"/ricerche", body)
}

// checkID accepts what ids are made of (hex ObjectIds, "<id>_<n>" for
// searches), so nothing else can change the request's path.
func checkID(what, id string) error {
	if id == "" {
		return invalidArg(what, "is empty")
	}
	if len(id) > 64 {
		return invalidArg(what, "is longer than 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return invalidArg(what, "may hold only letters, digits, '_' and '-'")
		}
	}
	return nil
}
