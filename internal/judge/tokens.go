package judge

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Vocabulary is the part of a tokenizer the Yes/No token sets are built from.
type Vocabulary interface {
	TokenID(piece string) (int, bool)
	Tokens(ids []int) []string
	EncodeText(text string) []int
	VocabSize() int
}

// TokenSets holds the token ids whose probabilities are summed into P(Yes)
// and P(No), with the vocabulary pieces they stand for.
type TokenSets struct {
	Yes, No             []int
	YesPieces, NoPieces []string
	// Fallback is set when the vocabulary has no single-token spelling of
	// a word and the first piece of its multi-token spelling was used.
	Fallback bool
}

// answerSpellings lists the spellings of each answer word the sets cover.
var answerSpellings = map[string][]string{
	"Yes": {"Yes", "yes"},
	"No":  {"No", "no"},
}

// wordPrefixes are the ways a vocabulary marks a leading space: none, a
// plain space, GPT-2's byte-level "Ġ" and SentencePiece's "▁".
var wordPrefixes = []string{"", " ", "Ġ", "▁"}

// BuildTokenSets finds every single-token spelling of "Yes" and "No" in the
// vocabulary: capitalised and lower case, bare or with a leading space
// marker. When a vocabulary has none for a word (tiny vocabularies), the
// first piece of the word's encoding is used instead, provided the two
// words start differently. A token may not count for both words.
func BuildTokenSets(v Vocabulary) (TokenSets, error) {
	yes, yesPieces := singleTokens(v, answerSpellings["Yes"])
	no, noPieces := singleTokens(v, answerSpellings["No"])

	var sets TokenSets
	if len(yes) == 0 || len(no) == 0 {
		yes, yesPieces = firstPieces(v, answerSpellings["Yes"])
		no, noPieces = firstPieces(v, answerSpellings["No"])
		yes, yesPieces, no, noPieces = dropShared(yes, yesPieces, no, noPieces)
		sets.Fallback = true
	}
	if len(yes) == 0 || len(no) == 0 {
		return TokenSets{}, fmt.Errorf("the vocabulary has no token that spells Yes or No apart from the other; pass --yes-tokens and --no-tokens with token ids or pieces")
	}

	sets.Yes, sets.YesPieces, sets.No, sets.NoPieces = yes, yesPieces, no, noPieces
	return sets, nil
}

// ParseTokenSets builds the sets from user lists of comma-separated token
// ids or vocabulary pieces, as given to --yes-tokens and --no-tokens.
func ParseTokenSets(v Vocabulary, yesList, noList string) (TokenSets, error) {
	yes, err := parseTokenList(v, "--yes-tokens", yesList)
	if err != nil {
		return TokenSets{}, err
	}
	no, err := parseTokenList(v, "--no-tokens", noList)
	if err != nil {
		return TokenSets{}, err
	}

	inYes := map[int]bool{}
	for _, id := range yes {
		inYes[id] = true
	}
	for _, id := range no {
		if inYes[id] {
			return TokenSets{}, fmt.Errorf("token %d (%q) is in both --yes-tokens and --no-tokens; a token can count for one answer only", id, v.Tokens([]int{id})[0])
		}
	}
	return TokenSets{Yes: yes, No: no, YesPieces: v.Tokens(yes), NoPieces: v.Tokens(no)}, nil
}

func parseTokenList(v Vocabulary, flagName, list string) ([]int, error) {
	var ids []int
	seen := map[int]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, err := strconv.Atoi(item)
		if err != nil {
			var ok bool
			id, ok = v.TokenID(item)
			if !ok {
				return nil, fmt.Errorf("%s: %q is neither a token id nor a piece of the vocabulary", flagName, item)
			}
		}
		if id < 0 || id >= v.VocabSize() {
			return nil, fmt.Errorf("%s: token id %d is outside the vocabulary of %d tokens", flagName, id, v.VocabSize())
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s is empty; give comma-separated token ids or vocabulary pieces", flagName)
	}
	sort.Ints(ids)
	return ids, nil
}

// singleTokens returns the ids of every prefixed spelling that is one
// vocabulary entry.
func singleTokens(v Vocabulary, spellings []string) ([]int, []string) {
	seen := map[int]bool{}
	for _, word := range spellings {
		for _, prefix := range wordPrefixes {
			if id, ok := v.TokenID(prefix + word); ok {
				seen[id] = true
			}
		}
	}
	return sortedWithPieces(v, seen)
}

// firstPieces returns the first token of each spelling's encoding, bare and
// after a space, skipping pieces that are only a space marker.
func firstPieces(v Vocabulary, spellings []string) ([]int, []string) {
	seen := map[int]bool{}
	for _, word := range spellings {
		for _, text := range []string{word, " " + word} {
			ids := v.EncodeText(text)
			if len(ids) == 0 {
				continue
			}
			piece := v.Tokens(ids[:1])[0]
			if strings.Trim(piece, " Ġ▁") == "" {
				continue
			}
			seen[ids[0]] = true
		}
	}
	return sortedWithPieces(v, seen)
}

func dropShared(yes []int, yesPieces []string, no []int, noPieces []string) ([]int, []string, []int, []string) {
	inNo := map[int]bool{}
	for _, id := range no {
		inNo[id] = true
	}
	inYes := map[int]bool{}
	var keptYes []int
	var keptYesPieces []string
	for i, id := range yes {
		inYes[id] = true
		if !inNo[id] {
			keptYes, keptYesPieces = append(keptYes, id), append(keptYesPieces, yesPieces[i])
		}
	}
	var keptNo []int
	var keptNoPieces []string
	for i, id := range no {
		if !inYes[id] {
			keptNo, keptNoPieces = append(keptNo, id), append(keptNoPieces, noPieces[i])
		}
	}
	return keptYes, keptYesPieces, keptNo, keptNoPieces
}

func sortedWithPieces(v Vocabulary, set map[int]bool) ([]int, []string) {
	ids := make([]int, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids, v.Tokens(ids)
}
