package visenginetest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/visengine-go/visengine"
)

// The catalogue is the vendor spec's GET /visure example (92 services).
// A few services have their real structure, recorded from the spec and the
// vendor's pages; every other one gets plainService's structure.
//
//go:embed catalogue/*.json
var catalogueFS embed.FS

// plainPrice is the price of the services whose real structure is unknown.
var plainPrice = euro(visengine.Cents(500))

// service is one entry of the catalogue.
type service struct {
	raw  []byte           // the "data" of GET /visure/{hash}, as served
	v    visengine.Visura // raw decoded, for validation and prices
	rule *visengine.Rule  // nil when validazione does not parse
}

// catalogue is immutable once loaded, so servers share one.
type catalogue struct {
	list   []byte // the "data" of GET /visure
	byHash map[string]*service
}

var loadCatalogue = sync.OnceValues(func() (*catalogue, error) {
	list, err := readData("catalogue/visure.json")
	if err != nil {
		return nil, err
	}
	var entries []visengine.VisuraSummary
	if err := json.Unmarshal(list, &entries); err != nil {
		return nil, fmt.Errorf("visenginetest: catalogue list: %w", err)
	}
	c := &catalogue{list: list, byHash: make(map[string]*service, len(entries))}
	for _, e := range entries {
		svc, err := loadService(e)
		if err != nil {
			return nil, err
		}
		c.byHash[e.HashVisura] = svc
	}
	return c, nil
})

// mustCatalogue returns the embedded catalogue; it cannot fail at run time
// because the package's tests load the same embedded files.
func mustCatalogue() *catalogue {
	c, err := loadCatalogue()
	if err != nil {
		panic(err)
	}
	return c
}

func loadService(e visengine.VisuraSummary) (*service, error) {
	raw, err := readData("catalogue/" + e.HashVisura + ".json")
	if err != nil {
		raw, err = plainService(e)
	}
	if err != nil {
		return nil, err
	}
	svc := &service{raw: raw}
	if err := json.Unmarshal(raw, &svc.v); err != nil {
		return nil, fmt.Errorf("visenginetest: service %s: %w", e.HashVisura, err)
	}
	// A rule the fake cannot parse is accepted as satisfied: refusing would
	// block every request for a service the real server may well accept.
	svc.rule, _ = visengine.ParseRule(svc.v.JSONStruttura.Validazione)
	return svc, nil
}

// readData returns the compacted "data" of an embedded envelope.
func readData(name string) ([]byte, error) {
	b, err := catalogueFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("visenginetest: %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, env.Data); err != nil {
		return nil, fmt.Errorf("visenginetest: %s: %w", name, err)
	}
	return out.Bytes(), nil
}

// plainService is the structure given to services whose real one is not
// known: a single text field, required.
func plainService(e visengine.VisuraSummary) ([]byte, error) {
	type campo struct {
		Nome       string `json:"nome"`
		Tipo       string `json:"tipo"`
		Null       bool   `json:"null"`
		Istruzioni string `json:"istruzioni"`
	}
	type struttura struct {
		Campi             map[string]campo `json:"campi"`
		Validazione       string           `json:"validazione"`
		Istruzioni        string           `json:"istruzioni"`
		IstruzioniRicerca string           `json:"istruzioni_ricerca"`
	}
	return json.Marshal(struct {
		NomeVisura    string    `json:"nome_visura"`
		Ricerca       bool      `json:"ricerca"`
		NomeCategoria string    `json:"nome_categoria"`
		JSONStruttura struttura `json:"json_struttura"`
		HashVisura    string    `json:"hash_visura"`
		PrezzoVisura  euro      `json:"prezzo_visura"`
		PrezzoRicerca euro      `json:"prezzo_ricerca"`
		Sincrona      bool      `json:"sincrona"`
		Opzioni       []any     `json:"opzioni"`
		Fornitori     []any     `json:"fornitori"`
	}{
		NomeVisura:    e.NomeVisura,
		NomeCategoria: e.NomeCategoria,
		JSONStruttura: struttura{
			Campi: map[string]campo{"$0": {Nome: "Dati richiesta", Tipo: "testo",
				Istruzioni: "Inserire i dati per la richiesta"}},
			Validazione: "$0",
		},
		HashVisura:   e.HashVisura,
		PrezzoVisura: plainPrice,
		Fornitori:    []any{},
	})
}

// fieldName maps a key to its campo's nome, for json_mappato.
func (svc *service) fieldName(key string) string {
	if c, ok := svc.v.JSONStruttura.Campi[key]; ok && strings.TrimSpace(c.Nome) != "" {
		return c.Nome
	}
	return key
}

// euro is an amount written as a JSON number in euro the way PHP writes
// floats: 20, 4.9, 4.78, 0.001.
type euro visengine.Price

// MarshalJSON writes the amount without trailing zeros.
func (e euro) MarshalJSON() ([]byte, error) {
	return []byte(e.text(false)), nil
}

// text formats the amount; fixed keeps two decimals ("182.03"), as in the
// insufficient-credit message.
func (e euro) text(fixed bool) string {
	s := strings.Replace(visengine.Price(e).String(), "€", "", 1)
	if !fixed {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}
