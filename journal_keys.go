package visengine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
)

// MinDigestSecret is the shortest secret Journal.DigestSecret and
// WithJournalSecret may key digests with: 256 bits.
const MinDigestSecret = 32

// KeyedJournalDigest is JournalDigest keyed with secret: the HMAC-SHA256,
// under secret, of the same canonical form (see JournalDigest), in 64
// lowercase hex digits. Without the secret it cannot be recomputed, so it
// cannot confirm a guess of the values. opzioni are option nomi
// ("opzione_0"); Visura.OpzioneNomi turns tipi into nomi.
func KeyedJournalDigest(secret []byte, hash string, values Values, opzioni []string) string {
	return digestWith(hmac.New(sha256.New, secret), hash, values, opzioni)
}

// IdempotencyRef returns the journal Ref (32 lowercase hex digits) of the
// submission named by an idempotency key (WithIdempotencyKey) in a journal
// keyed with secret: an HMAC of the key, so that neither the entry nor the
// callback_data that carries the Ref reveals the key (which may be a
// codice fiscale). The same key always gives the same Ref, which is how a
// journal's uniqueness of Refs makes a key name at most one submission.
func IdempotencyRef(secret []byte, key string) string {
	m := hmac.New(sha256.New, secret)
	writeDigestLine(m, "visengine idempotency key v1", key)
	return hex.EncodeToString(m.Sum(nil))[:journalRefLen]
}

// digestWith writes the canonical form of JournalDigest into h.
func digestWith(h hash.Hash, hash string, values Values, opzioni []string) string {
	writeDigestLine(h, "v1")
	writeDigestLine(h, "hash", hash)
	keys := make([]string, 0, len(values))
	for k, v := range values {
		if strings.TrimSpace(v) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		writeDigestLine(h, "value", k, strings.TrimSpace(values[k]))
	}
	opts := make([]string, 0, len(opzioni))
	for _, o := range opzioni {
		if o = strings.TrimSpace(o); o != "" {
			opts = append(opts, o)
		}
	}
	slices.Sort(opts)
	for _, o := range slices.Compact(opts) {
		writeDigestLine(h, "option", o)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// OpzioneNomi returns the nomi ("opzione_0") of the options chosen by nome
// or tipo ("urgenza"), as Submit sends them and as JournalDigest and
// KeyedJournalDigest take them: WithOpzioni("urgenza") and
// WithOpzioni("opzione_0") are one submission. An option the service does
// not offer is an error matching ErrInvalidArgument.
func (v *Visura) OpzioneNomi(nameOrTipo ...string) ([]string, error) {
	if v == nil {
		return nil, invalidArg("visura", "is nil")
	}
	set, err := resolveOptions(v, nameOrTipo)
	if err != nil {
		return nil, err
	}
	nomi := make([]string, 0, len(set))
	for nome := range set {
		nomi = append(nomi, nome)
	}
	slices.Sort(nomi)
	return nomi, nil
}
