package visengine

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingCreates is a journal as a user wraps it for metrics: it embeds
// Journal and overrides one method. The journal's secret and clock are
// methods of Journal, so the wrapper carries them without knowing them;
// an optional interface found by type assertion would be lost here.
type countingCreates struct {
	Journal
	creates atomic.Int32
}

func (w *countingCreates) Create(ctx context.Context, e JournalEntry) error {
	w.creates.Add(1)
	return w.Journal.Create(ctx, e)
}

// The skew test through a wrapper: the submitter records its close on the
// wrapped journal's clock (5 s behind this one), and a replica measures
// the settle time on it, so Recover right after an unknown close waits
// the whole settle time instead of closing at once.
func TestWrappedJournalKeepsItsClock(t *testing.T) {
	inner := skewJournal{newMemJournal(), -5 * time.Second}
	w := &countingCreates{Journal: inner}
	settleOnTheJournalsClock(t, inner, w)
	assert.EqualValues(t, 1, w.creates.Load(), "the wrapper's own method is called")
}

// A wrapped journal keeps its secret: the digest and the idempotency
// key's Ref are keyed with it, the same key replays the first payment
// (through the wrapper or not: one journal, one secret), and the same
// key with other values is refused.
func TestWrappedJournalKeepsItsSecret(t *testing.T) {
	fs := newFlowServer(t)
	inner := newMemJournal().withSecret()
	w := &countingCreates{Journal: inner}
	c := fs.client(WithJournal(w))
	ctx := context.Background()
	v := decodeVisura(t, "visura_a2.json")
	values := validA2Values(t)

	var first, second SubmitInfo
	r1, err := c.Submit(ctx, v, values, WithIdempotencyKey("pratica-1"), WithSubmitInfo(&first))
	require.NoError(t, err)
	r2, err := fs.client(WithJournal(inner)).Submit(ctx, v, values, WithIdempotencyKey("pratica-1"), WithSubmitInfo(&second))
	require.NoError(t, err, "the unwrapped journal has the same secret")
	assert.Equal(t, r1.ID, r2.ID)
	assert.True(t, second.Replayed)
	assert.EqualValues(t, 1, fs.charges.Load(), "one payment for one key")
	assert.EqualValues(t, 1, w.creates.Load())

	assert.Equal(t, IdempotencyRef(inner.secret, "pratica-1"), first.Ref)
	e, err := w.Get(ctx, first.Ref)
	require.NoError(t, err)
	assert.Equal(t, KeyedJournalDigest(inner.secret, v.HashVisura, values, nil), e.Digest, "keyed, not JournalDigest")
	other := maps.Clone(values)
	other["$0"] = "Bianchi"
	_, err = c.Submit(ctx, v, other, WithIdempotencyKey("pratica-1"))
	assert.ErrorIs(t, err, ErrIdempotencyKeyReused)

	_, err = c.Submit(ctx, v, values) // no key: a new submission, its digest keyed all the same
	require.NoError(t, err)
	for _, e := range inner.all() {
		assert.Equal(t, KeyedJournalDigest(inner.secret, v.HashVisura, values, nil), e.Digest)
	}
}

// A journal that keeps no secret (DigestSecret returns nil) gets unkeyed
// digests and no idempotency keys, unless the client is given one with
// WithJournalSecret, which then keys everything instead of asking the
// journal. A journal whose secret cannot be read, or is too short, stops
// Submit before anything is sent.
func TestJournalSecretOfTheClient(t *testing.T) {
	ctx := context.Background()
	v := decodeVisura(t, "visura_a2.json")
	values := validA2Values(t)

	fs := newFlowServer(t)
	j := newMemJournal()
	_, err := fs.client(WithJournal(j)).Submit(ctx, v, values, WithIdempotencyKey("pratica-1"))
	require.ErrorIs(t, err, ErrInvalidArgument, "no secret, no keys")
	_, err = fs.client(WithJournal(j)).Submit(ctx, v, values)
	require.NoError(t, err)
	e, _ := j.only()
	assert.Equal(t, JournalDigest(v.HashVisura, values, nil), e.Digest, "unkeyed")

	secret := bytes.Repeat([]byte{0xa7}, MinDigestSecret)
	for _, j := range []*memJournal{newMemJournal(), newMemJournal().withSecret()} {
		var info SubmitInfo
		_, err = fs.client(WithJournal(j), WithJournalSecret(secret)).Submit(ctx, v, values,
			WithIdempotencyKey("pratica-2"), WithSubmitInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, IdempotencyRef(secret, "pratica-2"), info.Ref, "the client's secret, not the journal's")
		e, _ := j.only()
		assert.Equal(t, KeyedJournalDigest(secret, v.HashVisura, values, nil), e.Digest)
	}

	for name, js := range map[string]Journal{
		"unreadable": secretJournal{newMemJournal(), nil, errors.New("secret manager down")},
		"short":      secretJournal{newMemJournal(), []byte("short"), nil},
	} {
		creates := fs.creates.Load()
		_, err := fs.client(WithJournal(js)).Submit(ctx, v, values)
		require.Error(t, err, name)
		assert.Equal(t, creates, fs.creates.Load(), "%s: nothing sent", name)
		assert.Empty(t, js.(secretJournal).all(), "%s: nothing recorded", name)
	}
}

// secretJournal is a memJournal whose DigestSecret answers secret, err.
type secretJournal struct {
	*memJournal
	secret []byte
	err    error
}

func (s secretJournal) DigestSecret(context.Context) ([]byte, error) { return s.secret, s.err }
