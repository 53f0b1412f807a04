package visenginetest

import (
	"encoding/json"
	"maps"
	"slices"
)

// The fake keeps its own wire structs, independent of the SDK's types, so
// that its answers follow the vendor's format (visengine-api.md §2.11) and
// not whatever the SDK happens to decode.

// Stati of a richiesta, as on the wire.
const (
	statoInRicerca       = "In ricerca"
	statoInErogazione    = "In erogazione"
	statoDatiDisponibili = "Dati disponibili"
	statoVisuraEvasa     = "Visura evasa"
	statoAnnullata       = "Annullata"
)

// Stati of one search.
const (
	ricercaEvasa  = "Ricerca evasa"
	ricercaErrore = "Errore su richiesta dati"
)

// wireRichiesta is the "data" of GET /richiesta/{id} and of the calls that
// change a richiesta, with its keys in the order of the spec's examples
// (the same in all five).
type wireRichiesta struct {
	ID                  string          `json:"_id"`
	State               int             `json:"state"`
	HashVisura          string          `json:"hash_visura"`
	Nome                string          `json:"nome"`
	Callback            string          `json:"callback"`
	Ricerca             bool            `json:"ricerca"`
	IDRicerca           *string         `json:"id_ricerca"`
	PrezzoVisura        euro            `json:"prezzo_visura"`
	PrezzoRicerca       euro            `json:"prezzo_ricerca"`
	IndiceRicerca       *int            `json:"indice_ricerca"`
	StatoRichiesta      string          `json:"stato_richiesta"`
	EmailTarget         *string         `json:"email_target"`
	Allegati            []string        `json:"allegati"`
	TimestampCreation   int64           `json:"timestamp_creation"`
	TimestampLastUpdate int64           `json:"timestamp_last_update"`
	TimestampStati      timestampStati  `json:"timestamp_stati"`
	CallbackData        json.RawMessage `json:"callback_data"` // the object sent, or false
	Opzioni             []wireOpzione   `json:"opzioni"`       // null when none was chosen
	Owner               string          `json:"owner"`
	Sincrona            bool            `json:"sincrona"`
	Ricerche            []wireRicerca   `json:"ricerche"`
	Esito               esito           `json:"esito"`
}

// wireSummary is one item of GET /richiesta, with its keys in the spec's
// order: a richiesta's, less callback, allegati, timestamp_stati,
// callback_data, opzioni, ricerche and esito.
type wireSummary struct {
	ID                  string  `json:"_id"`
	State               int     `json:"state"`
	HashVisura          string  `json:"hash_visura"`
	Nome                string  `json:"nome"`
	Ricerca             bool    `json:"ricerca"`
	IDRicerca           *string `json:"id_ricerca"`
	PrezzoVisura        euro    `json:"prezzo_visura"`
	PrezzoRicerca       euro    `json:"prezzo_ricerca"`
	IndiceRicerca       *int    `json:"indice_ricerca"`
	StatoRichiesta      string  `json:"stato_richiesta"`
	EmailTarget         *string `json:"email_target"`
	TimestampCreation   int64   `json:"timestamp_creation"`
	TimestampLastUpdate int64   `json:"timestamp_last_update"`
	Owner               string  `json:"owner"`
	Sincrona            bool    `json:"sincrona"`
}

// timestampStati has keys only for the states reached.
type timestampStati struct {
	InRicerca       *int64 `json:"in_ricerca,omitempty"`
	InErogazione    *int64 `json:"in_erogazione,omitempty"`
	DatiDisponibili *int64 `json:"dati_disponibili,omitempty"`
	VisuraEvasa     *int64 `json:"visura_evasa,omitempty"`
	Annullata       *int64 `json:"annullata,omitempty"`
}

type wireOpzione struct {
	Tipo   string `json:"tipo"`
	Prezzo euro   `json:"prezzo"`
	Nome   string `json:"nome"`
}

type wireRicerca struct {
	IDRicerca     string            `json:"id_ricerca"`
	StatoRicerca  string            `json:"stato_ricerca"`
	JSONRicerca   string            `json:"json_ricerca"`   // JSON text of the input
	JSONMappato   map[string]string `json:"json_mappato"`   // campo nome → value
	JSONRisultato *string           `json:"json_risultato"` // JSON text of the candidates, or null
}

type esito struct {
	Codice string `json:"codice"`
	Info   string `json:"info"`
}

var esitoOK = esito{Codice: "0", Info: "OK"}

// wire renders r; the caller holds the server's lock.
func (r *richiesta) wire(owner string) wireRichiesta {
	sum := r.summary(owner)
	w := wireRichiesta{
		ID: sum.ID, State: sum.State, HashVisura: sum.HashVisura, Nome: sum.Nome, Callback: "_rib_fake",
		Ricerca: sum.Ricerca, IDRicerca: sum.IDRicerca, PrezzoVisura: sum.PrezzoVisura, PrezzoRicerca: sum.PrezzoRicerca,
		IndiceRicerca: sum.IndiceRicerca, StatoRichiesta: sum.StatoRichiesta, EmailTarget: sum.EmailTarget,
		Allegati: []string{}, TimestampCreation: sum.TimestampCreation, TimestampLastUpdate: sum.TimestampLastUpdate,
		TimestampStati: r.stati, CallbackData: json.RawMessage("false"), Owner: sum.Owner, Sincrona: sum.Sincrona,
		Ricerche: []wireRicerca{}, Esito: r.esito,
	}
	if r.callbackData != nil {
		w.CallbackData = r.callbackData
	}
	if r.documentReady() {
		w.Allegati = []string{r.id + ".pdf"}
	}
	for _, o := range r.opzioni {
		w.Opzioni = append(w.Opzioni, wireOpzione{Tipo: o.Tipo, Prezzo: euro(o.Prezzo), Nome: o.Nome})
	}
	for _, rc := range r.ricerche {
		w.Ricerche = append(w.Ricerche, rc.wire(r.svc))
	}
	if r.state == 0 && len(r.ricerche) == 0 && len(r.values) > 0 && r.draftShape == DraftValuesInRicerche {
		// A draft shows its current json_visura as its first search, not yet
		// run ("stato_ricerca" empty): the wire has no other place for the
		// values, and without them a client cannot read back what it sent
		// or edited, nor tell its draft from another (Reconcile). The search
		// itself runs when the draft is closed. The real shape is unknown:
		// WithDraftShape(DraftValuesAbsent) shows none.
		draft := &ricerca{id: r.id + "_0", input: r.values}
		w.Ricerche = append(w.Ricerche, draft.wire(r.svc))
	}
	return w
}

// summary renders the keys r has in GET /richiesta; the caller holds the
// server's lock.
func (r *richiesta) summary(owner string) wireSummary {
	return wireSummary{
		ID: r.id, State: r.state, HashVisura: r.svc.v.HashVisura, Nome: r.svc.v.NomeVisura,
		Ricerca: bool(r.svc.v.HasRicerca), IDRicerca: r.idRicerca,
		PrezzoVisura: euro(r.svc.v.PrezzoVisura), PrezzoRicerca: euro(r.svc.v.PrezzoRicerca),
		IndiceRicerca: r.indice, StatoRichiesta: r.stato, EmailTarget: r.email,
		TimestampCreation: r.created, TimestampLastUpdate: r.updated,
		Owner: owner, Sincrona: bool(r.svc.v.Sincrona),
	}
}

func (rc *ricerca) wire(svc *service) wireRicerca {
	input, _ := marshal(rc.input)
	mapped := make(map[string]string, len(rc.input))
	for _, k := range slices.Sorted(maps.Keys(rc.input)) {
		mapped[svc.fieldName(k)] = rc.input[k]
	}
	return wireRicerca{
		IDRicerca: rc.id, StatoRicerca: rc.stato, JSONRicerca: string(input),
		JSONMappato: mapped, JSONRisultato: rc.risultato,
	}
}
