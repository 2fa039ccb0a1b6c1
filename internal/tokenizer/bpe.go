package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// bpe is the byte-pair-encoding model. Symbols are token ids; a merge of the
// adjacent pair (a, b) is looked up by the key a<<32|b and yields the rank
// and the id of the merged token. Lower ranks merge first and, among equal
// ranks, the leftmost pair merges first, as in the Rust and JavaScript
// implementations of Hugging Face.
type bpe struct {
	// byteLevel means that words are raw bytes and each byte is one initial
	// symbol, whose vocabulary piece is the byte's byte-level character.
	byteLevel bool
	// keyID maps a word in the model's input form (raw bytes when byteLevel
	// is set, the vocabulary piece otherwise) to its id.
	keyID map[string]int32
	// byteID is the id of each single byte when byteLevel is set, or -1.
	byteID [256]int32
	// asciiID is the id of each single ASCII character otherwise, or -1.
	asciiID [128]int32
	merges  map[uint64]uint64

	unk          int32 // -1 when the model has no unk_token
	byteFallback bool
	fallbackID   [256]int32 // ids of the <0xXX> tokens, or -1
	fuseUnk      bool
	ignoreMerges bool

	// splitBefore, when set, is a character that no merge joins to a
	// preceding different character, so a long word can be cut before each
	// occurrence that follows another character without changing the
	// result. SentencePiece vocabularies have this property for "▁"; it
	// lets the cache work on words instead of whole sentences.
	splitBefore string

	mu    sync.Mutex
	cache map[string][]int32
	pool  sync.Pool
}

// maxCachedWord is the longest word, in bytes, whose ids are cached.
const maxCachedWord = 256

// maxCacheEntries bounds the cache; it is emptied when full.
const maxCacheEntries = 1 << 17

// mergeKey packs a symbol pair into a map key.
func mergeKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// symbol is one node of the doubly linked list of a word being merged.
type symbol struct {
	id         int32
	prev, next int32
	start, end int32 // byte span in the word
	alive      bool
}

// candidate is a possible merge of the symbol at pos with its successor.
type candidate struct {
	rank, pos   int32
	left, right int32
	merged      int32
}

// workspace holds the buffers of one word encoding, reused through a pool.
type workspace struct {
	syms []symbol
	heap []candidate
}

// appendWord appends the ids of one pre-tokenized word.
func (m *bpe) appendWord(dst []int, word string) []int {
	if word == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.keyID[word]; ok {
			return append(dst, int(id))
		}
	}

	if m.splitBefore == "" || len(word) < maxCachedWord {
		return m.appendCached(dst, word)
	}
	for word != "" {
		k := m.nextBoundary(word)
		dst = m.appendCached(dst, word[:k])
		word = word[k:]
	}
	return dst
}

// nextBoundary returns the end of the first piece of word when it is cut
// before every splitBefore that follows another character.
func (m *bpe) nextBoundary(word string) int {
	i := 0
	for strings.HasPrefix(word[i:], m.splitBefore) {
		i += len(m.splitBefore)
	}
	k := strings.Index(word[i:], m.splitBefore)
	if k < 0 {
		return len(word)
	}
	return i + k
}

// appendCached appends the ids of word, from the cache when it is there.
func (m *bpe) appendCached(dst []int, word string) []int {
	if len(word) == 1 {
		// One symbol: no merge applies.
		if id := m.byteID[word[0]]; m.byteLevel && id >= 0 {
			return append(dst, int(id))
		}
		if id := m.asciiID[word[0]&0x7f]; !m.byteLevel && word[0] < utf8.RuneSelf && id >= 0 {
			return append(dst, int(id))
		}
	}
	cacheable := len(word) < maxCachedWord
	if cacheable {
		m.mu.Lock()
		ids, ok := m.cache[word]
		m.mu.Unlock()
		if ok {
			for _, id := range ids {
				dst = append(dst, int(id))
			}
			return dst
		}
	}

	start := len(dst)
	dst = m.merge(dst, word)

	if cacheable {
		ids := make([]int32, len(dst)-start)
		for i, id := range dst[start:] {
			ids[i] = int32(id)
		}
		m.mu.Lock()
		if len(m.cache) >= maxCacheEntries {
			clear(m.cache)
		}
		m.cache[word] = ids
		m.mu.Unlock()
	}
	return dst
}

// initialSymbols splits word into its initial symbols: bytes or characters.
func (m *bpe) initialSymbols(syms []symbol, word string) []symbol {
	syms = syms[:0]
	if m.byteLevel {
		for i := 0; i < len(word); i++ {
			syms = append(syms, symbol{id: m.byteID[word[i]], start: int32(i), end: int32(i + 1)})
		}
		return syms
	}
	for i := 0; i < len(word); {
		var id int32 = -1
		r, w := decodeAt(word, i)
		if r < utf8.RuneSelf {
			id = m.asciiID[r]
		} else if v, ok := m.keyID[word[i:i+w]]; ok {
			id = v
		}
		syms = append(syms, symbol{id: id, start: int32(i), end: int32(i + w)})
		i += w
	}
	return syms
}

// merge runs the merges on word and appends the resulting ids.
func (m *bpe) merge(dst []int, word string) []int {
	ws, _ := m.pool.Get().(*workspace)
	if ws == nil {
		ws = &workspace{}
	}
	defer m.pool.Put(ws)

	syms := m.initialSymbols(ws.syms, word)
	ws.syms = syms
	n := int32(len(syms))
	for i := range syms {
		syms[i].prev = int32(i) - 1
		syms[i].next = int32(i) + 1
		syms[i].alive = true
	}
	syms[n-1].next = -1

	h := ws.heap[:0]
	for i := int32(0); i+1 < n; i++ {
		h = m.pushPair(h, syms, i)
	}

	for len(h) > 0 {
		c := h[0]
		h = heapPop(h)
		left := &syms[c.pos]
		if !left.alive || left.id != c.left || left.next < 0 {
			continue
		}
		right := &syms[left.next]
		if right.id != c.right {
			continue
		}

		left.id = c.merged
		left.end = right.end
		right.alive = false
		left.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = c.pos
			h = m.pushPair(h, syms, c.pos)
		}
		if left.prev >= 0 {
			h = m.pushPair(h, syms, left.prev)
		}
	}
	ws.heap = h

	for i := int32(0); i >= 0; i = syms[i].next {
		s := syms[i]
		if s.id >= 0 {
			dst = append(dst, int(s.id))
			continue
		}
		dst = m.appendUnknown(dst, word[s.start:s.end])
	}
	return dst
}

// pushPair queues the merge of the symbol at pos with its successor, if the
// vocabulary has one.
func (m *bpe) pushPair(h []candidate, syms []symbol, pos int32) []candidate {
	s := syms[pos]
	if s.next < 0 || s.id < 0 {
		return h
	}
	r := syms[s.next].id
	if r < 0 {
		return h
	}
	v, ok := m.merges[mergeKey(s.id, r)]
	if !ok {
		return h
	}
	return heapPush(h, candidate{rank: int32(v >> 32), pos: pos, left: s.id, right: r, merged: int32(uint32(v))})
}

// appendUnknown appends the ids for a symbol missing from the vocabulary:
// its <0xXX> byte tokens when byte_fallback is on and all exist, else the
// unk token, else nothing.
func (m *bpe) appendUnknown(dst []int, text string) []int {
	if m.byteLevel {
		text = byteLevelEncode(text)
	}
	if m.byteFallback {
		ok := true
		for i := 0; i < len(text); i++ {
			if m.fallbackID[text[i]] < 0 {
				ok = false
				break
			}
		}
		if ok {
			for i := 0; i < len(text); i++ {
				dst = append(dst, int(m.fallbackID[text[i]]))
			}
			return dst
		}
	}
	if m.unk >= 0 {
		dst = append(dst, int(m.unk))
	}
	return dst
}

// less orders candidates by rank, then by position.
func (c candidate) less(d candidate) bool {
	if c.rank != d.rank {
		return c.rank < d.rank
	}
	return c.pos < d.pos
}

func heapPush(h []candidate, c candidate) []candidate {
	h = append(h, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []candidate) []candidate {
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		small := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			small = r
		}
		if !h[small].less(h[i]) {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	return h
}

// fuseUnknown collapses each run of consecutive unk ids in ids[from:] into
// one, for the fuse_unk option.
func (m *bpe) fuseUnknown(ids []int, from int) []int {
	if !m.fuseUnk || m.unk < 0 {
		return ids
	}
	out := from
	for i := from; i < len(ids); i++ {
		if ids[i] == int(m.unk) && out > from && ids[out-1] == int(m.unk) {
			continue
		}
		ids[out] = ids[i]
		out++
	}
	return ids[:out]
}
