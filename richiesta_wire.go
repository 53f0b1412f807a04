package visengine

// The lenient decoding of richieste: Visengine is a PHP backend, and its
// answers carry false, null, [], {} and numbers where strings and objects
// are due. PHP's empty shapes are read as "nothing", and the other shapes
// whose meaning is clear are read too (richiesta_shapes.go); a shape the
// SDK does not understand is refused with a *ShapeError, never read as a
// zero value. _id (a richiesta we cannot address) and state (draft or
// charged) are strict, and indice_ricerca when it is not an empty shape.
//
// Richieste are read straight from the answer's stream (see envelope.go),
// field by field, in one pass; the searches' values, mapped copy and
// results are kept as the JSON text sent and decoded only when asked
// (Ricerca.Valori, Mappato, Risultati). ref_decoder_test.go keeps the
// encoding/json decoder this replaced, which the differential tests hold it
// to.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var (
	errBadID    = fmt.Errorf("%w: _id is not a usable richiesta id", ErrUnexpectedResponse)
	errBadState = fmt.Errorf("%w: state is not 0 or 1", ErrUnexpectedResponse)
	errNotInt   = fmt.Errorf("%w: expected an integer", ErrUnexpectedResponse)
)

// UnmarshalJSON decodes the wire form leniently: null, false, "", [], {}
// and missing values become zero values, numbers may come as strings and
// strings as numbers, times as dates, lists as PHP's keyed objects and
// callback_data as JSON text. It fails when _id is not a usable id, when
// state is not 0 or 1, when indice_ricerca is malformed, and with a
// *ShapeError naming the key for any value it does not understand ("yes"
// for ricerca, false for a price, a date in an unknown layout).
func (r *Richiesta) UnmarshalJSON(b []byte) error {
	if r == nil {
		return invalidArg("richiesta", "is nil")
	}
	var d richiestaReader
	if err := decodeBytes(b, func(w *wireReader) error { return d.read(w, false) }); err != nil {
		return err
	}
	*r = d.r
	return nil
}

// UnmarshalJSON decodes a list entry through the same lenient rules.
func (s *RichiestaSummary) UnmarshalJSON(b []byte) error {
	if s == nil {
		return invalidArg("richiesta summary", "is nil")
	}
	var d richiestaReader
	if err := decodeBytes(b, func(w *wireReader) error { return d.read(w, true) }); err != nil {
		return err
	}
	*s = d.r.summary()
	return nil
}

// decodeBytes runs read on b, which must hold one JSON value, and returns
// its first problem.
func decodeBytes(b []byte, read func(*wireReader) error) error {
	w := newWireReader(bytes.NewReader(b), 0, nil)
	defer w.Release()
	err := read(w)
	if err == nil {
		err = w.Finish()
	}
	if err == nil {
		err = w.err
	}
	return err
}

func (r *Richiesta) decodeWire(w *wireReader) error {
	var d richiestaReader
	err := d.read(w, false)
	*r = d.r
	return err
}

func (r *Richiesta) summary() RichiestaSummary {
	return RichiestaSummary{ID: r.ID, State: r.State, HashVisura: r.HashVisura, Nome: r.Nome, HasRicerca: r.HasRicerca,
		IDRicerca: r.IDRicerca, PrezzoVisura: r.PrezzoVisura, PrezzoRicerca: r.PrezzoRicerca,
		IndiceRicerca: r.IndiceRicerca, StatoRichiesta: r.StatoRichiesta, EmailTarget: r.EmailTarget,
		TimestampCreation: r.TimestampCreation, TimestampLastUpdate: r.TimestampLastUpdate, Owner: r.Owner,
		Sincrona: r.Sincrona}
}

// richiestaReader decodes one richiesta.
type richiestaReader struct {
	r       Richiesta
	w       *wireReader
	summary bool   // only the keys of a list entry, short strings shared
	looseID string // _id as text, even when it is not a usable id
	idOK    bool   // _id is a usable id
	stateOK bool   // state is 0 or 1
}

// read decodes a richiesta (a list entry when summary is set). Its first
// problem goes to w.fail; an error is the stream's.
func (d *richiestaReader) read(w *wireReader, summary bool) error {
	d.w, d.summary = w, summary
	c, err := w.Kind()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		err = w.Object(d.member)
	case 'n':
		err = w.Literal() // like an object without keys
	default:
		w.fail(typeError(c, reflect.TypeFor[Richiesta](), ""))
		return w.Skip()
	}
	if !d.idOK {
		w.fail(errBadID)
	}
	if !d.stateOK {
		w.fail(errBadState)
	}
	return err
}

func (d *richiestaReader) member(key []byte) error {
	var buf foldBuf
	w, r := d.w, &d.r
	var err error
	switch name := string(buf.fold(key)); name {
	case "_id":
		return d.readID()
	case "state":
		raw, err := w.rawValue()
		r.State, d.stateOK = decodeState(raw)
		return err
	case "hash_visura":
		r.HashVisura, err = w.text("hash_visura", d.summary)
	case "nome":
		r.Nome, err = w.text("nome", d.summary)
	case "id_ricerca":
		r.IDRicerca, err = w.text("id_ricerca", false)
	case "stato_richiesta":
		var s string
		s, err = w.text("stato_richiesta", d.summary)
		r.StatoRichiesta = Stato(s)
	case "email_target":
		r.EmailTarget, err = w.text("email_target", d.summary)
	case "owner":
		r.Owner, err = w.text("owner", d.summary)
	case "ricerca":
		r.HasRicerca, err = w.flag("ricerca")
	case "sincrona":
		r.Sincrona, err = w.flag("sincrona")
	case "prezzo_visura":
		r.PrezzoVisura, err = w.loosePrice("prezzo_visura")
	case "prezzo_ricerca":
		r.PrezzoRicerca, err = w.loosePrice("prezzo_ricerca")
	case "indice_ricerca":
		r.IndiceRicerca, err = w.looseIndex()
	case "timestamp_creation":
		r.TimestampCreation, err = w.when("timestamp_creation")
	case "timestamp_last_update":
		r.TimestampLastUpdate, err = w.when("timestamp_last_update")
	default:
		if d.summary {
			return w.Skip()
		}
		return d.detail(name)
	}
	return err
}

// detail reads the keys a list entry does not have.
func (d *richiestaReader) detail(name string) error {
	w, r := d.w, &d.r
	var err error
	switch name {
	case "callback":
		r.ProviderRoutine, err = w.text("callback", false)
	case "motivo_annullamento":
		r.MotivoAnnullamento, err = w.text("motivo_annullamento", false)
	case "allegati":
		r.Allegati, err = w.fileNames("allegati")
	case "timestamp_stati":
		r.TimestampStati, err = w.timestampStati()
	case "callback_data":
		r.CallbackData, err = w.callbackData()
	case "opzioni":
		var raw []byte
		var ok bool
		raw, err = w.rawValue()
		r.Opzioni, r.unpricedOpzioni, ok = decodeOpzioni(raw)
		if !ok {
			w.fail(shapeError("opzioni", "a list of options or an object of flags"))
		}
	case "ricerche":
		r.Ricerche, err = w.ricerche()
	case "esito":
		r.Esito, err = w.esito()
	default:
		err = w.Skip()
	}
	return err
}

// readID requires _id to be a string that can address the richiesta, and
// keeps it as text anyway for a list entry that cannot be read.
func (d *richiestaReader) readID() error {
	c, err := d.w.Kind()
	if err != nil {
		return err
	}
	d.looseID, err = d.w.looseString(false)
	d.idOK = c == '"' && checkID("id", d.looseID) == nil
	if d.idOK {
		d.r.ID = d.looseID
	}
	return err
}

// decodeState requires state to be 0 or 1, as a number or a numeric string:
// reading a charged richiesta as a draft (or the reverse) is not harmless.
func decodeState(raw []byte) (State, bool) {
	switch string(raw) {
	case "0", `"0"`:
		return StateDraft, true
	case "1", `"1"`:
		return StateSubmitted, true
	}
	return 0, false
}

// looseString is text sent as a string or a number (kept as its text);
// false, true, null, arrays and objects give "". With share, a short string
// seen before in this answer is shared rather than copied again.
func (w *wireReader) looseString(share bool) (string, error) {
	c, err := w.Kind()
	switch {
	case err != nil:
		return "", err
	case c == '"' && share:
		w.scratch, err = w.AppendString(w.scratch[:0])
		return w.shared(w.scratch), err
	case c == '"':
		return w.String()
	case c == '-' || '0' <= c && c <= '9':
		w.scratch, err = w.Number(w.scratch[:0])
		if share {
			return w.shared(w.scratch), err
		}
		return string(w.scratch), err
	}
	return "", w.Skip()
}

// shared returns b as a string, the same string each time for short ones.
func (w *wireReader) shared(b []byte) string {
	if s, ok := w.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= 64 && len(w.names) < 1024 {
		if w.names == nil {
			w.names = make(map[string]string)
		}
		w.names[s] = s
	}
	return s
}

// rawValue returns the next value as sent, in scratch space valid until
// the next read.
func (w *wireReader) rawValue() ([]byte, error) {
	var err error
	w.scratch, err = w.AppendRaw(w.scratch[:0])
	return w.scratch, err
}

// looseIndex is indice_ricerca: PHP's empty shapes mean not chosen (nil);
// a value that is not an integer is a problem, since the choice is paid.
func (w *wireReader) looseIndex() (*int, error) {
	raw, err := w.rawValue()
	if err != nil || isEmptyShape(raw) {
		return nil, err
	}
	n, perr := flexInt(raw)
	if perr != nil {
		w.fail(perr)
		return nil, nil
	}
	return &n, nil
}

// isEmptyShape reports the values a PHP backend sends for "nothing": null,
// false, "", [] and {} (raw is one JSON value, as sent).
func isEmptyShape(raw []byte) bool {
	switch string(raw) {
	case "null", "false", `""`:
		return true
	}
	if len(raw) < 2 || raw[0] != '[' && raw[0] != '{' {
		return false
	}
	return len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
}

// flexInt reads an integer sent as a number or a numeric string (raw as
// sent); null and "null" are 0.
func flexInt(raw []byte) (int, error) {
	s := bytes.Trim(bytes.TrimSpace(raw), `"`)
	if len(s) == 0 || string(s) == "null" {
		return 0, nil
	}
	if len(s) <= 15 && allDigits(s) { // exact, and what ParseFloat would say
		n := 0
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		return n, nil
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, errNotInt
	}
	return int(v), nil
}

// skipUnless skips the next value unless err is set.
func (w *wireReader) skipUnless(err error) error {
	if err != nil {
		return err
	}
	return w.Skip()
}

// object reads an object's members with member, or skips anything else and
// reports false.
func (w *wireReader) object(member func(name []byte) error) (bool, error) {
	c, err := w.Kind()
	if err != nil || c != '{' {
		return false, w.skipUnless(err)
	}
	return true, w.Object(func(key []byte) error {
		var buf foldBuf
		return member(buf.fold(key))
	})
}

// blocks gathers a list in blocks, copied once into a slice of the right
// size: a slice grown by append would leave up to twice the list as
// garbage, which for long lists is most of the peak memory.
type blocks[T any] struct {
	full [][]T
	last []T
}

func (b *blocks[T]) add(v T) {
	if len(b.last) == cap(b.last) {
		if b.last != nil {
			b.full = append(b.full, b.last)
		}
		b.last = make([]T, 0, min(max(2*cap(b.last), 8), 4096))
	}
	b.last = append(b.last, v)
}

// slice returns the list; nil when nothing was added.
func (b *blocks[T]) slice() []T {
	if len(b.full) == 0 {
		return b.last
	}
	return slices.Concat(append(b.full, b.last)...)
}

// richiesteList is GET /richiesta's data, each entry decoded on its own, so
// one that cannot be read does not hide the others.
type richiesteList struct {
	ok  []RichiestaSummary // the entries read, in order
	bad []listEntry        // the others, with what could be read of them
	n   int                // entries in all
}

func (l *richiesteList) decodeWire(w *wireReader) error {
	*l = richiesteList{}
	c, err := w.Kind()
	if err != nil {
		return err
	}
	if c != '[' {
		w.fail(typeError(c, reflect.TypeFor[[]RichiestaSummary](), ""))
		return w.Skip()
	}
	var ok blocks[RichiestaSummary]
	err = w.Array(func() error {
		outer := w.err
		w.err = nil
		var d richiestaReader
		err := d.read(w, true)
		if w.err != nil {
			l.bad = append(l.bad, listEntry{pos: l.n, id: d.looseID, hash: d.r.HashVisura, created: d.r.TimestampCreation, err: w.err})
		} else {
			ok.add(d.r.summary())
		}
		l.n, w.err = l.n+1, outer
		return err
	})
	if l.ok = ok.slice(); l.ok == nil {
		l.ok = []RichiestaSummary{}
	}
	return err
}

// entries lists every entry, readable or not, in order, with what
// Reconcile needs to know of it.
func (l *richiesteList) entries() []listEntry {
	out, bad := make([]listEntry, 0, l.n), l.bad
	for _, s := range l.ok {
		for len(bad) > 0 && bad[0].pos == len(out) {
			out, bad = append(out, bad[0]), bad[1:]
		}
		out = append(out, listEntry{pos: len(out), id: s.ID, hash: s.HashVisura, created: s.TimestampCreation})
	}
	return append(out, bad...)
}

// decodeOpzioni accepts the catalogue's list form and the request's object
// form {"opzione_0": true}, which names the options without their prices
// (unpriced), and PHP's empty shapes (no options); anything else is not
// understood (ok false).
func decodeOpzioni(raw json.RawMessage) (list []Opzione, unpriced, ok bool) {
	if json.Unmarshal(raw, &list) == nil {
		return list, false, true
	}
	var set map[string]Flag
	if json.Unmarshal(raw, &set) != nil {
		return nil, false, isEmptyShape(raw)
	}
	for nome, on := range set {
		if on {
			list = append(list, Opzione{Nome: nome})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Nome < list[j].Nome })
	return list, true, true
}

// flexString is text sent as a string or a number.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	if t := bytes.TrimSpace(b); string(t) != "null" {
		*s = flexString(t)
	}
	return nil
}

// decodeValori reads json_ricerca's values: an object of strings or
// numbers (kept as their text); nil when it is not one.
func decodeValori(s string) Values {
	if s == "" {
		return nil
	}
	var vals map[string]flexString
	if json.Unmarshal([]byte(s), &vals) != nil || vals == nil {
		return nil
	}
	out := make(Values, len(vals))
	for k, v := range vals {
		out[k] = string(v)
	}
	return out
}

// decodeRisultati reads {"indice_0": {…}, …}; keys not of that form are
// skipped, since the choice is sent as the number.
func decodeRisultati(s string) map[int]Risultato {
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
		if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '{' && json.Unmarshal(v, &res) == nil {
			out[n] = res
		}
	}
	return out
}
