package itcheck

// Kind says what sort of defect a check found, so a caller can give each
// failure a stable, machine-readable code without reading the message.
type Kind uint8

// Kinds of defects. Zero is not a kind: KindOf returns it for errors that are
// not this package's reasons.
const (
	KindLength    Kind = iota + 1 // wrong number of characters (codice fiscale, partita IVA)
	KindFormat                    // wrong characters or layout
	KindCheck                     // the check character or check digit does not match
	KindBirthDate                 // the birth date encoded in a codice fiscale does not exist
	KindDate                      // not a real calendar date in an accepted layout
	KindEmail                     // not a bare e-mail address
	KindFileName                  // an inline file's name is empty or unusable
	KindMIME                      // an inline file's MIME type is not type/subtype
	KindEmpty                     // an inline file has no content
	KindTooLarge                  // an inline file is larger than allowed
	KindBase64                    // an inline file's content is not padded standard base64
)

// Reason is why a value failed a check: a fixed English sentence and its
// Kind. A Reason never contains the checked value.
type Reason struct {
	kind Kind
	msg  string
}

// Error returns the sentence.
func (r *Reason) Error() string { return r.msg }

// Kind returns the sort of defect.
func (r *Reason) Kind() Kind { return r.kind }

// reason declares one of the package's reasons. The checks return them as
// error (never a typed nil), compared by identity.
func reason(k Kind, msg string) error { return &Reason{kind: k, msg: msg} }

// KindOf returns the Kind of one of the package's reasons, or 0.
func KindOf(err error) Kind {
	if r, ok := err.(*Reason); ok {
		return r.kind
	}
	return 0
}

// All lists every reason the checks return, so callers can test that a
// mapping over them is complete.
func All() []error {
	return []error{ErrCFLength, ErrCFCharset, ErrCFStructure, ErrCFMonth, ErrCFDay, ErrCFDate, ErrCFCheck,
		ErrCFAnyLength, ErrPIVALength, ErrPIVADigits, ErrPIVACheck, ErrPIVAOrCFForm, ErrEmail, ErrCodComune,
		ErrCodProvincia, ErrDate, ErrFileForm, ErrFileName, ErrFileNameChars, ErrFileMIME, ErrFileEmpty,
		ErrFileTooBig, ErrBase64, ErrBase64Shape}
}
