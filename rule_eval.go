package visengine

// FieldSet is a set of filled fields, by key ("$0", "$3"): what [Rule.Eval]
// and [Rule.Explain] check against a rule. Build it with [FieldSetOf] or Add;
// the zero value is an empty set.
type FieldSet struct {
	// Keys spelled canonically ("$0", "$17") are bits of words, indexed by
	// N, so a rule tests them without hashing or allocating; other spellings
	// ("$01") go to other.
	words []uint64
	other map[string]struct{}
}

// FieldSetOf returns the set of the given keys.
func FieldSetOf(keys ...string) FieldSet {
	var s FieldSet
	for _, k := range keys {
		s.Add(k)
	}
	return s
}

// Add puts key in the set.
func (s *FieldSet) Add(key string) {
	if s == nil {
		return
	}
	n, ok := canonIndex(key)
	if !ok {
		if s.other == nil {
			s.other = map[string]struct{}{}
		}
		s.other[key] = struct{}{}
		return
	}
	for len(s.words) <= n>>6 {
		s.words = append(s.words, 0)
	}
	s.words[n>>6] |= 1 << (n & 63)
}

// Has reports whether key is in the set.
func (s FieldSet) Has(key string) bool {
	n, ok := canonIndex(key)
	if !ok {
		n = -1
	}
	return s.has(int32(n), key)
}

func (s *FieldSet) has(n int32, key string) bool {
	if n < 0 {
		_, ok := s.other[key]
		return ok
	}
	w := int(n >> 6)
	return w < len(s.words) && s.words[w]&(1<<(n&63)) != 0
}

// Eval reports whether the fields in s satisfy the rule. It does not
// allocate, so it can run on every change of a form. A nil Rule holds for
// no set.
func (r *Rule) Eval(s FieldSet) bool {
	// With at most 64 fields the rule's minimal DNF terms are precomputed and
	// each is tested against a bit mask (t &^ present == 0); larger rules
	// walk the AST.
	if r == nil || r.root == nil {
		return false
	}
	if !r.small {
		return r.evalSet(r.root, &s)
	}
	p := r.mask(&s)
	if r.terms == nil {
		return evalMask(r.root, p)
	}
	for _, t := range r.terms {
		if t&^p == 0 {
			return true
		}
	}
	return false
}

// mask maps s onto the rule's dense field indices.
func (r *Rule) mask(s *FieldSet) uint64 {
	if r.identity {
		if len(s.words) == 0 {
			return 0
		}
		return s.words[0] & r.all
	}
	var p uint64
	for i, n := range r.canon {
		if s.has(n, r.keys[i]) {
			p |= 1 << i
		}
	}
	return p
}

// evalMask, evalSet and evalBits walk the tree over three representations
// of the present fields. They are written out three times on purpose: a
// generic walker over an interface made Eval allocate and run 5x slower.
func evalMask(n *node, p uint64) bool {
	switch n.op {
	case opField:
		return p&(1<<n.field) != 0
	case opAnd:
		for _, k := range n.kids {
			if !evalMask(k, p) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if evalMask(k, p) {
			return true
		}
	}
	return false
}

func (r *Rule) evalSet(n *node, s *FieldSet) bool {
	switch n.op {
	case opField:
		return s.has(r.canon[n.field], r.keys[n.field])
	case opAnd:
		for _, k := range n.kids {
			if !r.evalSet(k, s) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if r.evalSet(k, s) {
			return true
		}
	}
	return false
}

// evalBits evaluates n on a bitset over dense indices (any number of fields).
func evalBits(n *node, b []uint64) bool {
	switch n.op {
	case opField:
		return b[n.field>>6]&(1<<(n.field&63)) != 0
	case opAnd:
		for _, k := range n.kids {
			if !evalBits(k, b) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if evalBits(k, b) {
			return true
		}
	}
	return false
}
