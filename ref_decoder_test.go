package visengine

// The reference decoder: the richiesta, list and envelope decoding as it
// was before the streaming decoder (commit f1edf2d), with math/big prices,
// kept verbatim but for the ref prefix on its names. The differential
// tests and fuzz targets check the streaming decoder against it on the PHP
// shapes. Do not "fix" it: it is the specification by example.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// refRichiesta is Richiesta as it was, with eager searches.
type refRichiesta struct {
	ID                  string
	State               State
	HashVisura          string
	Nome                string
	ProviderRoutine     string
	HasRicerca          bool
	IDRicerca           string
	PrezzoVisura        Price
	PrezzoRicerca       Price
	IndiceRicerca       *int
	StatoRichiesta      Stato
	EmailTarget         string
	Allegati            []string
	TimestampCreation   time.Time
	TimestampLastUpdate time.Time
	TimestampStati      TimestampStati
	CallbackData        *Callback
	Opzioni             []refOpzione
	Owner               string
	Sincrona            bool
	Ricerche            []refRicerca
	Esito               Esito
	MotivoAnnullamento  string
	unpricedOpzioni     bool
}

type refRicerca struct {
	IDRicerca     string
	StatoRicerca  StatoRicerca
	JSONRicerca   string
	JSONMappato   map[string]any
	JSONRisultato string
	Valori        Values
	Risultati     map[int]Risultato
}

type refSummary RichiestaSummary

type refOpzione struct {
	Tipo   string   `json:"tipo"`
	Prezzo refPrice `json:"prezzo"`
	Nome   string   `json:"nome"`
}

type refPrice Price

type refListEntry struct {
	summary refSummary
	err     error
	id      string
	hash    string
	created time.Time
}

// refWireRichiesta is the JSON shape; Richiesta is decoded through it so the
// public type can use time.Time, *Callback and decoded searches.
//
// Visengine is a PHP backend: where a string or an object is expected it may
// send false, null, a number, [] (PHP's empty array) or {}. Every field is
// therefore decoded leniently through the loose* types below, which never
// fail. Only what would be dangerous to get wrong is strict: _id (a richiesta
// we cannot address), state (draft or charged) and, when they hold something
// other than an empty shape, the prices and indice_ricerca.
type refWireRichiesta struct {
	ID                  json.RawMessage       `json:"_id"`
	State               json.RawMessage       `json:"state"`
	HashVisura          refLooseString        `json:"hash_visura"`
	Nome                refLooseString        `json:"nome"`
	Callback            refLooseString        `json:"callback"`
	Ricerca             refLooseFlag          `json:"ricerca"`
	IDRicerca           refLooseString        `json:"id_ricerca"`
	PrezzoVisura        refLoosePrice         `json:"prezzo_visura"`
	PrezzoRicerca       refLoosePrice         `json:"prezzo_ricerca"`
	IndiceRicerca       refLooseIndex         `json:"indice_ricerca"`
	StatoRichiesta      refLooseString        `json:"stato_richiesta"`
	EmailTarget         refLooseString        `json:"email_target"`
	Allegati            refLooseStrings       `json:"allegati"`
	TimestampCreation   refUnixTime           `json:"timestamp_creation"`
	TimestampLastUpdate refUnixTime           `json:"timestamp_last_update"`
	TimestampStati      refWireTimestampStati `json:"timestamp_stati"`
	CallbackData        json.RawMessage       `json:"callback_data"`
	Opzioni             json.RawMessage       `json:"opzioni"`
	Owner               refLooseString        `json:"owner"`
	Sincrona            refLooseFlag          `json:"sincrona"`
	Ricerche            refWireRicerche       `json:"ricerche"`
	Esito               refWireEsito          `json:"esito"`
	MotivoAnnullamento  refLooseString        `json:"motivo_annullamento"`
}

type refWireRicerca struct {
	IDRicerca     refLooseString `json:"id_ricerca"`
	StatoRicerca  refLooseString `json:"stato_ricerca"`
	JSONRicerca   refJsonText    `json:"json_ricerca"`
	JSONMappato   refLooseObject `json:"json_mappato"`
	JSONRisultato refJsonText    `json:"json_risultato"`
}

// refWireRicerche is the ricerche list: anything but an array is no searches,
// and entries that are not objects are skipped.
type refWireRicerche []refWireRicerca

func (w *refWireRicerche) UnmarshalJSON(b []byte) error {
	*w = refKeepItems[refWireRicerca](refKeyedList(b), '{')
	return nil
}

// refKeyedList turns PHP's keyed object {"0": …, "1": …} into the array it
// stands for, in key order (amended for issue 21); other values are
// returned as they are.
func refKeyedList(b []byte) []byte {
	var m map[string]json.RawMessage
	if refJsonKind(b) != '{' || json.Unmarshal(b, &m) != nil {
		return b
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || strconv.Itoa(n) != k {
			return nil
		}
		keys = append(keys, n)
	}
	sort.Ints(keys)
	items := make([]json.RawMessage, 0, len(keys))
	for _, n := range keys {
		items = append(items, m[strconv.Itoa(n)])
	}
	out, _ := json.Marshal(items)
	return out
}

// refKeepItems decodes the items of a JSON array that are of kind ('{', '"',
// …) and decode as T; anything else, the array included, is dropped.
func refKeepItems[T any](b []byte, kind byte) []T {
	var items []json.RawMessage
	if refJsonKind(b) != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	var out []T
	for _, it := range items {
		var v T
		if refJsonKind(it) == kind && json.Unmarshal(it, &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

type refWireEsito struct {
	Codice refLooseString `json:"codice"`
	Info   refLooseString `json:"info"`
}

func (e *refWireEsito) UnmarshalJSON(b []byte) error {
	*e = refWireEsito{}
	if refJsonKind(b) != '{' {
		return nil // false, null, []: no outcome yet
	}
	type plain refWireEsito
	_ = json.Unmarshal(b, (*plain)(e))
	return nil
}

type refWireTimestampStati struct {
	InRicerca       refUnixTime `json:"in_ricerca"`
	InErogazione    refUnixTime `json:"in_erogazione"`
	DatiDisponibili refUnixTime `json:"dati_disponibili"`
	VisuraEvasa     refUnixTime `json:"visura_evasa"`
	Annullata       refUnixTime `json:"annullata"`
}

func (t *refWireTimestampStati) UnmarshalJSON(b []byte) error {
	*t = refWireTimestampStati{}
	if refJsonKind(b) != '{' {
		return nil // [] is PHP's empty map
	}
	type plain refWireTimestampStati
	_ = json.Unmarshal(b, (*plain)(t))
	return nil
}

type refWireCallback struct {
	URL    refLooseString `json:"url"`
	Method refLooseString `json:"method"`
	Field  refLooseString `json:"field"`
	Data   refLooseObject `json:"data"`
}

// UnmarshalJSON decodes the wire form leniently (see refWireRichiesta): null,
// false, [] and missing values become zero values, numbers may come as
// strings and strings as numbers. It fails when _id is not a usable id, when
// state is not 0 or 1, and when a price or indice_ricerca is malformed.
func (r *refRichiesta) UnmarshalJSON(b []byte) error {
	if r == nil {
		return invalidArg("richiesta", "is nil")
	}
	var w refWireRichiesta
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	id, err := refDecodeID(w.ID)
	if err != nil {
		return err
	}
	state, err := refDecodeState(w.State)
	if err != nil {
		return err
	}
	*r = refRichiesta{
		ID: id, State: state, HashVisura: string(w.HashVisura), Nome: string(w.Nome),
		ProviderRoutine: string(w.Callback), HasRicerca: bool(w.Ricerca), IDRicerca: string(w.IDRicerca),
		PrezzoVisura: Price(w.PrezzoVisura), PrezzoRicerca: Price(w.PrezzoRicerca), IndiceRicerca: w.IndiceRicerca.p,
		StatoRichiesta: Stato(w.StatoRichiesta), EmailTarget: string(w.EmailTarget), Allegati: []string(w.Allegati),
		TimestampCreation: w.TimestampCreation.t, TimestampLastUpdate: w.TimestampLastUpdate.t,
		TimestampStati: TimestampStati{
			InRicerca: w.TimestampStati.InRicerca.t, InErogazione: w.TimestampStati.InErogazione.t,
			DatiDisponibili: w.TimestampStati.DatiDisponibili.t, VisuraEvasa: w.TimestampStati.VisuraEvasa.t,
			Annullata: w.TimestampStati.Annullata.t,
		},
		CallbackData: refDecodeCallbackData(w.CallbackData), Owner: string(w.Owner), Sincrona: bool(w.Sincrona),
		Esito: Esito{Codice: string(w.Esito.Codice), Info: string(w.Esito.Info)}, MotivoAnnullamento: string(w.MotivoAnnullamento),
	}
	r.Opzioni, r.unpricedOpzioni = refDecodeOpzioni(w.Opzioni)
	for _, wr := range w.Ricerche {
		r.Ricerche = append(r.Ricerche, wr.decode())
	}
	return nil
}

// refDecodeID requires _id to be a string that can address the richiesta.
func refDecodeID(raw json.RawMessage) (string, error) {
	var id string
	if refJsonKind(raw) != '"' || json.Unmarshal(raw, &id) != nil || checkID("id", id) != nil {
		return "", fmt.Errorf("%w: _id is not a usable richiesta id", ErrUnexpectedResponse)
	}
	return id, nil
}

// refDecodeState requires state to be 0 or 1, as a number or a numeric string:
// reading a charged richiesta as a draft (or the reverse) is not harmless.
func refDecodeState(raw json.RawMessage) (State, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "0", `"0"`:
		return StateDraft, nil
	case "1", `"1"`:
		return StateSubmitted, nil
	}
	return 0, fmt.Errorf("%w: state is not 0 or 1", ErrUnexpectedResponse)
}

func (w refWireRicerca) decode() refRicerca {
	r := refRicerca{IDRicerca: string(w.IDRicerca), StatoRicerca: StatoRicerca(w.StatoRicerca), JSONMappato: map[string]any(w.JSONMappato),
		JSONRicerca: string(w.JSONRicerca), JSONRisultato: string(w.JSONRisultato)}
	if r.JSONRicerca != "" {
		var vals map[string]refFlexString
		if json.Unmarshal([]byte(r.JSONRicerca), &vals) == nil && vals != nil {
			r.Valori = make(Values, len(vals))
			for k, v := range vals {
				r.Valori[k] = string(v)
			}
		}
	}
	r.Risultati = refDecodeRisultati(r.JSONRisultato)
	return r
}

// refDecodeRisultati reads {"indice_0": {…}, …}; keys not of that form are
// skipped, since the choice is sent as the number.
func refDecodeRisultati(s string) map[int]Risultato {
	if s == "" || s == "null" {
		return nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &raw) != nil {
		return nil
	}
	out := make(map[int]Risultato, len(raw))
	for k, v := range raw {
		n, err := strconv.Atoi(strings.TrimPrefix(k, "indice_"))
		if err != nil || n < 0 || !strings.HasPrefix(k, "indice_") {
			continue
		}
		var res Risultato
		if refJsonKind(v) == '{' && json.Unmarshal(v, &res) == nil {
			out[n] = res
		}
	}
	return out
}

// UnmarshalJSON decodes a list entry through the same lenient rules.
func (s *refSummary) UnmarshalJSON(b []byte) error {
	if s == nil {
		return invalidArg("richiesta summary", "is nil")
	}
	var r refRichiesta
	if err := r.UnmarshalJSON(b); err != nil {
		return err
	}
	*s = refSummary{ID: r.ID, State: r.State, HashVisura: r.HashVisura, Nome: r.Nome, HasRicerca: r.HasRicerca,
		IDRicerca: r.IDRicerca, PrezzoVisura: r.PrezzoVisura, PrezzoRicerca: r.PrezzoRicerca,
		IndiceRicerca: r.IndiceRicerca, StatoRichiesta: r.StatoRichiesta, EmailTarget: r.EmailTarget,
		TimestampCreation: r.TimestampCreation, TimestampLastUpdate: r.TimestampLastUpdate, Owner: r.Owner,
		Sincrona: r.Sincrona}
	return nil
}

// refDecodeCallbackData reads callback_data; anything but an object (false,
// null, absent, []) is no callback.
func refDecodeCallbackData(raw json.RawMessage) *Callback {
	raw = refJSONInText(raw)
	if refJsonKind(raw) != '{' {
		return nil
	}
	var w refWireCallback
	if json.Unmarshal(raw, &w) != nil {
		return nil
	}
	return &Callback{URL: string(w.URL), Method: string(w.Method), Field: string(w.Field), Data: map[string]any(w.Data)}
}

// refDecodeOpzioni accepts the catalogue's list form and the request's object
// form {"opzione_0": true}, which names the options without their prices
// (unpriced); anything else is dropped.
func refDecodeOpzioni(raw json.RawMessage) (list []refOpzione, unpriced bool) {
	if json.Unmarshal(raw, &list) == nil {
		return list, false
	}
	var set map[string]Flag
	if json.Unmarshal(raw, &set) != nil {
		return nil, false
	}
	for nome, on := range set {
		if on {
			list = append(list, refOpzione{Nome: nome})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Nome < list[j].Nome })
	return list, true
}

// refJsonKind returns the first byte of a JSON value ('"', '{', '[', 't', 'f',
// 'n', '-' or a digit), or 0 when there is none.
func refJsonKind(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// refIsEmptyShape reports the values a PHP backend sends for "nothing": null,
// false, "", [] and {}.
func refIsEmptyShape(b []byte) bool {
	switch string(bytes.TrimSpace(b)) {
	case "", "null", "false", `""`:
		return true
	}
	switch refJsonKind(b) {
	case '[':
		var a []json.RawMessage
		return json.Unmarshal(b, &a) == nil && len(a) == 0
	case '{':
		var m map[string]json.RawMessage
		return json.Unmarshal(b, &m) == nil && len(m) == 0
	}
	return false
}

// refLooseString is text sent as a string or a number (kept as its text);
// false, true, null, arrays and objects give "".
type refLooseString string

func (s *refLooseString) UnmarshalJSON(b []byte) error {
	*s = ""
	switch k := refJsonKind(b); {
	case k == '"':
		var str string
		if json.Unmarshal(b, &str) == nil {
			*s = refLooseString(str)
		}
	case k == '-' || k >= '0' && k <= '9':
		*s = refLooseString(bytes.TrimSpace(b))
	}
	return nil
}

// refLooseStrings is a list of names: the strings of an array are kept, other
// entries and anything but an array are dropped. Amended for issue 21:
// numbers are names too, kept as their text, as everywhere else.
type refLooseStrings []string

func (l *refLooseStrings) UnmarshalJSON(b []byte) error {
	*l = nil
	var items []json.RawMessage
	if b = refKeyedList(b); refJsonKind(b) != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	for _, it := range items {
		if k := refJsonKind(it); k == '"' || k == '-' || '0' <= k && k <= '9' {
			var s refLooseString
			_ = s.UnmarshalJSON(it)
			*l = append(*l, string(s))
		}
	}
	return nil
}

// refLooseObject is a JSON object; anything else (PHP's [] included) is nil.
type refLooseObject map[string]any

func (o *refLooseObject) UnmarshalJSON(b []byte) error {
	*o = nil
	b = refJSONInText(b)
	var m map[string]any
	if refJsonKind(b) == '{' && json.Unmarshal(b, &m) == nil {
		*o = m
	}
	return nil
}

// refJsonText is JSON that Visengine sends inside a string, or sometimes as
// the object or array itself: either way it is kept as JSON text. Other
// values give "".
type refJsonText string

func (t *refJsonText) UnmarshalJSON(b []byte) error {
	*t = ""
	switch refJsonKind(b) {
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*t = refJsonText(s)
		}
	case '{', '[':
		var buf bytes.Buffer
		if json.Compact(&buf, b) == nil {
			*t = refJsonText(buf.String())
		}
	}
	return nil
}

// refLooseFlag is a Flag where anything unreadable is false.
type refLooseFlag bool

func (f *refLooseFlag) UnmarshalJSON(b []byte) error {
	var v Flag
	*f = refLooseFlag(v.UnmarshalJSON(b) == nil && bool(v))
	return nil
}

// refLoosePrice is a Price where PHP's empty shapes are zero; a malformed
// amount is still an error.
type refLoosePrice Price

func (p *refLoosePrice) UnmarshalJSON(b []byte) error {
	*p = refLoosePrice{}
	if refIsEmptyShape(b) {
		return nil
	}
	var v refPrice
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*p = refLoosePrice(v)
	return nil
}

// refLooseIndex is indice_ricerca: PHP's empty shapes mean not chosen (nil); a
// value that is not an integer is an error, since the choice is paid.
type refLooseIndex struct{ p *int }

func (x *refLooseIndex) UnmarshalJSON(b []byte) error {
	x.p = nil
	if refIsEmptyShape(b) {
		return nil
	}
	var n refFlexInt
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	x.p = n.ptr()
	return nil
}

// refFlexInt is an integer sent as a number or a numeric string.
type refFlexInt int

func (n *refFlexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return fmt.Errorf("%w: expected an integer", ErrUnexpectedResponse)
	}
	*n = refFlexInt(v)
	return nil
}

func (n *refFlexInt) ptr() *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

// refFlexString is text sent as a string or a number.
type refFlexString string

func (s *refFlexString) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = refFlexString(str)
		return nil
	}
	if t := bytes.TrimSpace(b); string(t) != "null" {
		*s = refFlexString(t)
	}
	return nil
}

// refUnixTime is Unix seconds; 0, null, absent or unreadable values give the
// zero time. Amended for issue 21: a date as text is read.
type refUnixTime struct{ t time.Time }

func (u *refUnixTime) UnmarshalJSON(b []byte) error {
	u.t = time.Time{}
	var n refFlexInt
	var s string
	switch {
	case n.UnmarshalJSON(b) == nil && n > 0:
		u.t = time.Unix(int64(n), 0).UTC()
	case refJsonKind(b) == '"' && json.Unmarshal(b, &s) == nil:
		u.t, _ = parseDate(s)
	}
	return nil
}

// refJSONInText is the object a JSON string holds (amended for issue 21),
// or b as it is.
func refJSONInText(b []byte) []byte {
	var s string
	if refJsonKind(b) != '"' || json.Unmarshal(b, &s) != nil {
		return b
	}
	if t := bytes.TrimSpace([]byte(s)); refJsonKind(t) == '{' {
		return t
	}
	return b
}

// refEnvelope is Visengine's answer around every payload.
type refEnvelope struct {
	Data    json.RawMessage `json:"data"`
	Success *bool           `json:"success"`
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"`
}

func refInterpret(status int, body []byte, readErr error, limit int64, out any) (string, error) {
	switch {
	case readErr != nil:
		return "", fmt.Errorf("%w: %w", unexpectedResponse(status, "reading body: %v", readErr), io.ErrUnexpectedEOF)
	case int64(len(body)) > limit:
		return "", unexpectedResponse(status, "body larger than %d bytes", limit)
	case status/100 == 3:
		return "", unexpectedResponse(status, "redirect not followed")
	}
	var env refEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return "", unexpectedResponse(status, "body is not a Visengine JSON envelope (%d bytes)", len(body))
	}
	if status/100 != 2 || env.Success == nil || !*env.Success {
		return "", refEnvelopeError(status, env)
	}
	msg := refEnvelopeMessage(env.Message)
	if out == nil {
		return msg, nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return "", unexpectedResponse(status, "success without data")
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return "", unexpectedResponse(status, "decoding data: %s", refDescribeJSONError(err))
	}
	return msg, nil
}

// refEnvelopeError builds the error for an envelope that is not a success.
func refEnvelopeError(status int, env refEnvelope) error {
	if env.Success == nil && status/100 == 2 {
		return unexpectedResponse(status, `envelope without "success"`)
	}
	return newAPIError(status, refEnvelopeCode(env.Error), refEnvelopeMessage(env.Message))
}

// refEnvelopeCode reads "error" as a number or a numeric string; 0 otherwise.
func refEnvelopeCode(raw json.RawMessage) int {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if v, err := json.Number(s).Int64(); err == nil {
		return int(v)
	}
	return 0
}

func refEnvelopeMessage(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return ""
}

// refDescribeJSONError names what was wrong without quoting the input, which
// may hold personal data.
func refDescribeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: unexpected JSON %s", te.Field, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.Is(err, ErrUnexpectedResponse), errors.Is(err, ErrBadPrice):
		return err.Error() // our decoders' own messages never quote the input
	}
	return "invalid JSON"
}

func refDecodeListEntry(raw json.RawMessage) refListEntry {
	var e refListEntry
	if e.err = json.Unmarshal(raw, &e.summary); e.err == nil {
		e.id, e.hash, e.created = e.summary.ID, e.summary.HashVisura, e.summary.TimestampCreation
		return e
	}
	var peek struct {
		ID      refLooseString `json:"_id"`
		Hash    refLooseString `json:"hash_visura"`
		Created refUnixTime    `json:"timestamp_creation"`
	}
	_ = json.Unmarshal(raw, &peek) // best effort: whatever reads is kept
	e.id, e.hash, e.created = string(peek.ID), string(peek.Hash), peek.Created.t
	return e
}

// UnmarshalJSON reads a number (or a numeric string, or null as zero).
func (p *refPrice) UnmarshalJSON(b []byte) error {
	if p == nil {
		return invalidArg("price", "is nil")
	}
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*p = refPrice{}
		return nil
	}
	s := strings.Trim(string(b), `"`)
	c, err := refParsePrice(s)
	if err != nil {
		return err
	}
	*p = refPrice(c)
	return nil
}

// refParsePrice reads a decimal euro amount ("20", "4.78", "0.001", "1e1")
// into micro-euro. Digits beyond the millionth must be zero: such prices
// would make totals inexact, so they are refused rather than rounded.
// Amounts beyond ±MaxPriceMicros are refused too.
func refParsePrice(s string) (Price, error) {
	if !refDecimalSyntax(s) {
		return Price{}, fmt.Errorf("%w: not a decimal number", ErrBadPrice)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Price{}, fmt.Errorf("%w: not a decimal number", ErrBadPrice)
	}
	r.Mul(r, big.NewRat(1_000_000, 1))
	if !r.IsInt() {
		return Price{}, fmt.Errorf("%w: finer than a millionth of a euro", ErrBadPrice)
	}
	if !r.Num().IsInt64() || !Micros(r.Num().Int64()).inRange() {
		return Price{}, fmt.Errorf("%w: out of range", ErrBadPrice)
	}
	return Micros(r.Num().Int64()), nil
}

// refDecimalSyntax admits what JSON numbers look like, with a short exponent so
// that "1e999999999" cannot make big.Rat allocate a huge number.
func refDecimalSyntax(s string) bool {
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !refAllDigits(intPart) || !refAllDigits(frac) || len(mant) > 40 {
		return false
	}
	if hasExp {
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		return exp != "" && len(exp) <= 2 && refAllDigits(exp)
	}
	return true
}

func refAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
