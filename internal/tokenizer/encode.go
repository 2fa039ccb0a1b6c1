package tokenizer

import (
	"strings"
	"sync"
)

// Encode returns the ids of text the way Hugging Face encodes it by default:
// added tokens in the text, special or not, become their ids, and when
// addSpecialTokens is true the post-processor's tokens (BOS, EOS) are added.
// Guard runes are removed from the text between added tokens as described
// at EscapeSpecial.
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) []int {
	return t.encode(text, t.rawMatcher, t.normMatcher, true, addSpecialTokens)
}

// EncodeText encodes data such as a prompt or a response: added tokens
// marked special are never matched, so "<|im_end|>" in a response is plain
// text. Non-special added tokens are matched, and no BOS or EOS is added.
func (t *Tokenizer) EncodeText(text string) []int {
	return t.encode(text, t.rawTextMatcher, t.normTextMatcher, false, false)
}

// scratch holds the reusable buffers of one encode call.
type scratch struct {
	sections, subs []piece
	words          []string
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (t *Tokenizer) encode(text string, raw, normed *matcher, guarded, addSpecial bool) []int {
	text = toValidUTF8(text)
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)

	ids := make([]int, 0, len(text)/3+4)
	if addSpecial {
		ids = append(ids, t.post.prefix...)
	}

	sections := raw.split(sc.sections[:0], text, guarded)
	if guarded {
		for i := range sections {
			if sections[i].token == nil {
				sections[i].text = unguard(sections[i].text)
			}
		}
	}
	stripAround(sections)

	for index, sec := range sections {
		if sec.token != nil {
			ids = append(ids, sec.token.ID)
			continue
		}
		s := sec.text
		if s != "" && t.normalizer != nil {
			s = t.normalizer.normalize(s)
		}
		if s == "" {
			continue
		}
		subs := normed.split(sc.subs[:0], s, false)
		stripAround(subs)
		for _, sub := range subs {
			if sub.token != nil {
				ids = append(ids, sub.token.ID)
				continue
			}
			if sub.text == "" {
				continue
			}
			ids = t.encodeWords(ids, sub.text, index, sc)
		}
		sc.subs = subs[:0]
	}
	sc.sections = sections[:0]

	if addSpecial {
		ids = append(ids, t.post.suffix...)
	}
	return ids
}

// encodeWords pre-tokenizes normalized text and runs the model on each word.
func (t *Tokenizer) encodeWords(ids []int, s string, section int, sc *scratch) []int {
	words := sc.words[:0]
	if t.pre != nil {
		words = t.pre.appendWords(words, s, section)
	} else {
		words = append(words, s)
	}
	start := len(ids)
	for _, w := range words {
		ids = t.model.appendWord(ids, w)
	}
	clear(words)
	sc.words = words[:0]
	return t.model.fuseUnknown(ids, start)
}

// Decode turns ids back into text through the decoder. With skipSpecial,
// special tokens (and the additional_special_tokens of
// tokenizer_config.json) are dropped. Ids outside the vocabulary decode as
// the model's unk token, or are dropped when it has none.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		var p string
		if id >= 0 && id < len(t.pieces) {
			p = t.pieces[id]
		}
		if p == "" {
			if t.model.unk < 0 {
				continue
			}
			p = t.pieces[t.model.unk]
		}
		if skipSpecial && t.special[p] {
			continue
		}
		tokens = append(tokens, p)
	}

	var s string
	if t.decoder != nil {
		s = strings.Join(t.decoder.decodeChain(tokens), "")
	} else {
		s = strings.Join(tokens, " ")
	}
	if t.cleanUpSpace {
		s = cleanUpTokenization(s)
	}
	return s
}

// cleanUpReplacer removes the spaces before punctuation and contractions,
// for the clean_up_tokenization_spaces option.
var cleanUpReplacer = []string{
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'",
	" n't", "n't", " 'm", "'m", " 's", "'s", " 've", "'ve", " 're", "'re",
}

func cleanUpTokenization(s string) string {
	for i := 0; i < len(cleanUpReplacer); i += 2 {
		s = strings.ReplaceAll(s, cleanUpReplacer[i], cleanUpReplacer[i+1])
	}
	return s
}
