package tokenizer

import (
	"fmt"
	"strings"
)

// modelConfig is the "model" entry of tokenizer.json.
type modelConfig struct {
	Type                    string    `json:"type"`
	Vocab                   vocabMap  `json:"vocab"`
	Merges                  mergeList `json:"merges"`
	Dropout                 *float64  `json:"dropout"`
	UNKToken                *string   `json:"unk_token"`
	ContinuingSubwordPrefix *string   `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string   `json:"end_of_word_suffix"`
	FuseUNK                 bool      `json:"fuse_unk"`
	ByteFallback            bool      `json:"byte_fallback"`
	IgnoreMerges            bool      `json:"ignore_merges"`
}

// buildBPE checks the model entry and builds the BPE model. byteLevel is true
// when the pre-tokenizer ends with ByteLevel.
func buildBPE(mc *modelConfig, byteLevel bool, path string) (*bpe, error) {
	if mc.Type != "BPE" && mc.Type != "" {
		return nil, unsupported("model", mc.Type, path)
	}
	if mc.Vocab == nil {
		return nil, fmt.Errorf("invalid model in %s: missing \"vocab\"", path)
	}
	if mc.Dropout != nil && *mc.Dropout != 0 {
		return nil, fmt.Errorf("unsupported BPE model in %s: dropout %g (only null is supported, because dropout makes encoding random)", path, *mc.Dropout)
	}
	if p := deref(mc.ContinuingSubwordPrefix, ""); p != "" {
		return nil, fmt.Errorf("unsupported BPE model in %s: continuing_subword_prefix %q (only null or empty is supported)", path, p)
	}
	if s := deref(mc.EndOfWordSuffix, ""); s != "" {
		return nil, fmt.Errorf("unsupported BPE model in %s: end_of_word_suffix %q (only null or empty is supported)", path, s)
	}

	m := &bpe{
		byteLevel:    byteLevel,
		keyID:        make(map[string]int32, len(mc.Vocab)),
		merges:       make(map[uint64]uint64, len(mc.Merges)),
		unk:          -1,
		byteFallback: mc.ByteFallback,
		fuseUnk:      mc.FuseUNK,
		ignoreMerges: mc.IgnoreMerges,
		cache:        map[string][]int32{},
	}
	for i := range m.byteID {
		m.byteID[i] = -1
		m.fallbackID[i] = -1
	}
	for i := range m.asciiID {
		m.asciiID[i] = -1
	}

	limit := maxID(len(mc.Vocab))
	for piece, id := range mc.Vocab {
		if id < 0 || id > limit {
			return nil, fmt.Errorf("invalid model vocab in %s: id %d of %q is outside 0..%d", path, id, piece, limit)
		}
		if b, ok := parseByteToken(piece); ok {
			m.fallbackID[b] = int32(id)
		}
		key := piece
		if byteLevel {
			raw, ok := byteLevelDecode(piece)
			if !ok {
				continue // never produced from bytes
			}
			key = string(raw)
			if len(raw) == 1 {
				m.byteID[raw[0]] = int32(id)
			}
		} else if len(piece) == 1 && piece[0] < 128 {
			m.asciiID[piece[0]] = int32(id)
		}
		m.keyID[key] = int32(id)
	}

	if mc.UNKToken != nil {
		id, ok := mc.Vocab[*mc.UNKToken]
		if !ok {
			return nil, fmt.Errorf("invalid model in %s: unk_token %q is not in the vocab", path, *mc.UNKToken)
		}
		m.unk = int32(id)
	}

	var joined []byte
	for rank, pair := range mc.Merges {
		a, b := pair[0], pair[1]
		ida, oka := mc.Vocab[a]
		idb, okb := mc.Vocab[b]
		joined = append(append(joined[:0], a...), b...)
		idm, okm := mc.Vocab[string(joined)]
		if !oka || !okb || !okm {
			return nil, fmt.Errorf("invalid model merges in %s: merge %d (%q %q) uses a token that is not in the vocab", path, rank, a, b)
		}
		k := mergeKey(int32(ida), int32(idb))
		if _, dup := m.merges[k]; !dup {
			m.merges[k] = uint64(rank)<<32 | uint64(uint32(idm))
		}
	}
	if !byteLevel && !joinsAfter(mc.Merges, metaspace) {
		m.splitBefore = metaspace
	}
	return m, nil
}

// metaspace is the character SentencePiece uses for spaces.
const metaspace = "\u2581"

// joinsAfter reports whether some merge (a, b) has b starting with c and a
// ending with another character.
func joinsAfter(merges mergeList, c string) bool {
	for _, pair := range merges {
		a, b := pair[0], pair[1]
		if strings.HasPrefix(b, c) && !strings.HasSuffix(a, c) {
			return true
		}
	}
	return false
}

// maxID bounds the ids of a vocabulary of n entries. Real files number
// their tokens densely; the bound keeps a corrupt id from allocating
// gigabytes for the id table.
func maxID(n int) int { return 2*n + 1<<16 }
