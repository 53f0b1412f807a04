package visenginetest

// DraftShape says what a draft (state 0) shows of its values in GET
// /richiesta/{id}. The real API's draft shape is not documented: no spec
// example shows a draft. Clients must work with either.
type DraftShape int

// The draft shapes the fake can show.
const (
	// DraftValuesInRicerche shows the draft's current json_visura as its
	// first search, not yet run ("stato_ricerca" empty): the default.
	DraftValuesInRicerche DraftShape = iota
	// DraftValuesAbsent shows no searches at all on a draft ("ricerche":
	// []): its values cannot be read back until it is closed.
	DraftValuesAbsent
)

// WithDraftShape sets what drafts show of their values (default
// DraftValuesInRicerche), so that a client's reconciliation can be tested
// against both shapes the real API may have.
func WithDraftShape(shape DraftShape) Option {
	return func(c *config) { c.draftShape = shape }
}
