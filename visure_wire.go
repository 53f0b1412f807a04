package visengine

// A service's structure (GET /visure/{hash}) read straight from the
// answer's stream, with encoding/json's rules for a Visura, which it
// replaces on the client's path (json.Unmarshal into a Visura still works,
// and gives the same result): keys matched as encoding/json matches them,
// null leaving a field as it is, a repeated object merged into the first,
// and the same error for the same input. encoding/json goes on after a
// value of the wrong type and reports the first at the end, but stops at
// the first error of a field's own decoder (Flag, Price, Struttura).

import (
	"encoding/json"
	"errors"
	"reflect"
)

// visuraReader decodes a Visura, or its Struttura, the way encoding/json
// would, errors included.
type visuraReader struct {
	w     *wireReader
	saved error // the first value of the wrong type
	stop  error // the first error of a field's own decoder: nothing more is decoded
}

func (v *Visura) decodeWire(w *wireReader) error {
	d := visuraReader{w: w}
	var out Visura
	err := d.object(reflect.TypeFor[Visura](), func(name []byte) error { return d.visuraMember(&out, name) })
	if e := d.result(); e != nil {
		w.fail(e)
	}
	*v = out
	return err
}

// result is the error encoding/json would return.
func (d *visuraReader) result() error {
	if d.stop != nil {
		return d.stop
	}
	return d.saved
}

// object reads an object's members with member, after the first stop only
// skipping them; null is left alone and another type is saved as an error.
func (d *visuraReader) object(t reflect.Type, member func(name []byte) error) error {
	return d.objectAt(t, "", member)
}

func (d *visuraReader) objectAt(t reflect.Type, field string, member func(name []byte) error) error {
	w := d.w
	c, err := w.Kind()
	switch {
	case err != nil:
		return err
	case c == 'n':
		return w.Literal()
	case c != '{':
		d.wrongType(c, t, field)
		return w.Skip()
	}
	return w.Object(func(key []byte) error {
		if d.stop != nil {
			return w.Skip()
		}
		var buf foldBuf
		return member(buf.fold(key))
	})
}

func (d *visuraReader) wrongType(c byte, t reflect.Type, field string) {
	if d.saved == nil {
		d.saved = typeError(c, t, field)
	}
}

func (d *visuraReader) visuraMember(v *Visura, name []byte) error {
	switch string(name) {
	case "hash_visura":
		return d.str(&v.HashVisura, "hash_visura")
	case "nome_visura":
		return d.str(&v.NomeVisura, "nome_visura")
	case "nome_categoria":
		return d.str(&v.NomeCategoria, "nome_categoria")
	case "json_struttura":
		return d.struttura(&v.JSONStruttura)
	case "ricerca":
		return d.own(&v.HasRicerca, "ricerca", "a boolean")
	case "sincrona":
		return d.own(&v.Sincrona, "sincrona", "a boolean")
	case "prezzo_visura":
		return d.own(&v.PrezzoVisura, "prezzo_visura", "a price")
	case "prezzo_ricerca":
		return d.own(&v.PrezzoRicerca, "prezzo_ricerca", "a price")
	case "opzioni":
		return d.opzioni(&v.Opzioni)
	case "fornitori":
		return d.raw(&v.Fornitori)
	}
	return d.w.Skip()
}

// str reads a string field: null leaves it, another type is saved.
func (d *visuraReader) str(dst *string, field string) error {
	wrong, err := d.w.readString(dst)
	if wrong != 0 {
		d.wrongType(wrong, reflect.TypeFor[string](), field)
	}
	return err
}

// own hands the value, whatever it is, to the field's UnmarshalJSON; its
// error stops the decoding, as a *ShapeError naming key and what was
// expected (as a Richiesta's do), never quoting the value. A price keeps
// its cause (ErrBadPrice).
func (d *visuraReader) own(u json.Unmarshaler, key, want string) error {
	raw, err := d.w.rawValue()
	if err == nil {
		if uerr := u.UnmarshalJSON(raw); uerr != nil {
			d.stop = &ShapeError{Key: key, Want: want}
			if errors.Is(uerr, ErrBadPrice) {
				d.stop = &ShapeError{Key: key, Want: want, Err: uerr}
			}
		}
	}
	return err
}

// raw keeps the value as sent, null included.
func (d *visuraReader) raw(dst *json.RawMessage) error {
	raw, err := d.w.Raw()
	*dst = raw
	return err
}

// struttura does what Struttura.UnmarshalJSON does: decode into s (an
// object merges into what a repeated key decoded before), then key the
// campi and compile the rule; its error, with the field's path, stops the
// decoding.
func (d *visuraReader) struttura(s *Struttura) error {
	inner := visuraReader{w: d.w}
	err := inner.object(reflect.TypeFor[Struttura](), func(name []byte) error { return inner.strutturaMember(s, name) })
	if e := inner.result(); e != nil {
		var te *json.UnmarshalTypeError
		if errors.As(e, &te) {
			te.Field = joinField("json_struttura", te.Field)
		}
		d.stop = e
		return err
	}
	for k, c := range s.Campi {
		c.Key = k
		s.Campi[k] = c
	}
	s.compiled = compileRule(s.Validazione)
	return err
}

func joinField(parent, field string) string {
	if field == "" {
		return parent
	}
	return parent + "." + field
}

func (d *visuraReader) strutturaMember(s *Struttura, name []byte) error {
	switch string(name) {
	case "campi":
		return d.campi(&s.Campi)
	case "validazione":
		return d.str(&s.Validazione, "validazione")
	case "istruzioni":
		return d.str(&s.Istruzioni, "istruzioni")
	case "istruzioni_ricerca":
		return d.str(&s.IstruzioniRicerca, "istruzioni_ricerca")
	}
	return d.w.Skip()
}

// campi reads the map of fields: null empties it, an object adds to it.
func (d *visuraReader) campi(m *map[string]Campo) error {
	w := d.w
	c, err := w.Kind()
	switch {
	case err != nil:
		return err
	case c == 'n':
		*m = nil
		return w.Literal()
	case c != '{':
		d.wrongType(c, reflect.TypeFor[map[string]Campo](), "campi")
		return w.Skip()
	}
	if *m == nil {
		*m = map[string]Campo{}
	}
	return w.Map(func(key string) error {
		if d.stop != nil {
			return w.Skip()
		}
		var f Campo
		err := d.objectAt(reflect.TypeFor[Campo](), "campi", func(name []byte) error { return d.campoMember(&f, name) })
		if d.stop == nil {
			(*m)[key] = f
		}
		return err
	})
}

func (d *visuraReader) campoMember(f *Campo, name []byte) error {
	switch string(name) {
	case "nome":
		return d.str(&f.Nome, "campi.nome")
	case "tipo":
		return d.str(&f.Tipo, "campi.tipo")
	case "istruzioni":
		return d.str(&f.Istruzioni, "campi.istruzioni")
	case "null":
		return d.own(&f.Null, "json_struttura.campi.null", "a boolean")
	case "ordine":
		return d.own(&f.Ordine, "json_struttura.campi.ordine", "a whole number")
	case "opzioni":
		return d.raw(&f.Opzioni)
	}
	return d.w.Skip()
}

// opzioni reads the list of options as encoding/json fills a slice: null
// empties it; the elements of an array decode into those a repeated key
// left, merging, as the slice's memory is reused.
func (d *visuraReader) opzioni(list *[]Opzione) error {
	w := d.w
	c, err := w.Kind()
	switch {
	case err != nil:
		return err
	case c == 'n':
		*list = nil
		return w.Literal()
	case c != '[':
		d.wrongType(c, reflect.TypeFor[[]Opzione](), "opzioni")
		return w.Skip()
	}
	s := (*list)[:0]
	err = w.Array(func() error {
		if d.stop != nil {
			return w.Skip()
		}
		if len(s) < cap(s) {
			s = s[:len(s)+1]
		} else {
			s = append(s, Opzione{})
		}
		o := &s[len(s)-1]
		return d.objectAt(reflect.TypeFor[Opzione](), "opzioni", func(name []byte) error { return d.opzioneMember(o, name) })
	})
	if len(s) == 0 {
		s = []Opzione{}
	}
	*list = s
	return err
}

func (d *visuraReader) opzioneMember(o *Opzione, name []byte) error {
	switch string(name) {
	case "tipo":
		return d.str(&o.Tipo, "opzioni.tipo")
	case "nome":
		return d.str(&o.Nome, "opzioni.nome")
	case "prezzo":
		return d.own(&o.Prezzo, "opzioni.prezzo", "a price")
	}
	return d.w.Skip()
}
