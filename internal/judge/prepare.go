package judge

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Tokenizer is the part of a tokenizer that the judge uses.
type Tokenizer interface {
	Vocabulary
	// Encode matches the template's special tokens; data inside the text
	// must have been passed through EscapeSpecial first.
	Encode(text string, addSpecialTokens bool) []int
	Decode(ids []int, skipSpecial bool) string
	EscapeSpecial(text string) string
}

// Formatter renders the whole model input for one response: the judge
// question with the prompt and response filled in, wrapped in the chat
// template when there is one. It must escape prompt and response with
// EscapeSpecial so that they cannot produce special tokens.
type Formatter func(category, prompt, response string) (string, error)

// Input is one tokenized judge input.
type Input struct {
	Tokens    []int
	Truncated bool
}

// Preparer turns (category, prompt, response) into model tokens that fit
// MaxLength.
type Preparer struct {
	Tokenizer Tokenizer
	Format    Formatter
	// AddSpecialTokens applies the tokenizer's post-processor (BOS/EOS);
	// set it for raw prompts and leave it off for chat templates, which
	// write their own BOS.
	AddSpecialTokens bool
	MaxLength        int
}

// cutMarker replaces the middle of a shortened text.
const cutMarker = "\n[...]\n"

// minKeptTokens is the size below which a text is not shortened further.
const minKeptTokens = 16

// Prepare formats and tokenizes one response. When the input is longer
// than MaxLength it removes tokens from the middle of the response, then
// from the middle of the prompt. The judge question and the chat template
// are never cut.
func (p *Preparer) Prepare(category, prompt, response string) (Input, error) {
	tokens, err := p.encode(category, prompt, response)
	if err != nil {
		return Input{}, err
	}
	if p.MaxLength <= 0 || len(tokens) <= p.MaxLength {
		return Input{Tokens: tokens}, nil
	}

	full := len(tokens)
	response, tokens, err = p.shorten(tokens, func(r string) (string, string) { return prompt, r }, response, category)
	if err != nil {
		return Input{}, err
	}
	if len(tokens) > p.MaxLength {
		prompt, tokens, err = p.shorten(tokens, func(q string) (string, string) { return q, response }, prompt, category)
		if err != nil {
			return Input{}, err
		}
	}
	if len(tokens) > p.MaxLength {
		return Input{}, fmt.Errorf("the judge input needs %d tokens after shortening the prompt and response (%d before), more than --max-length %d; raise --max-length", len(tokens), full, p.MaxLength)
	}
	return Input{Tokens: tokens, Truncated: true}, nil
}

// shorten removes tokens from the middle of text, where place puts the
// shortened text back into (prompt, response), until the input fits or the
// text is down to minKeptTokens. It returns the final text and tokens.
func (p *Preparer) shorten(tokens []int, place func(string) (string, string), text, category string) (string, []int, error) {
	textTokens := p.Tokenizer.EncodeText(text)
	cut := 0
	for attempt := 0; attempt < 8 && len(tokens) > p.MaxLength; attempt++ {
		room := len(textTokens) - minKeptTokens
		if room <= cut {
			break
		}
		// Remove the overflow plus a little slack, since the tokens at the
		// cut may merge differently once the text is joined again.
		cut = min(room, cut+len(tokens)-p.MaxLength+4)
		shortened := cutMiddle(p.Tokenizer, textTokens, cut)

		prompt, response := place(shortened)
		next, err := p.encode(category, prompt, response)
		if err != nil {
			return "", nil, err
		}
		text, tokens = shortened, next
	}
	return text, tokens, nil
}

func (p *Preparer) encode(category, prompt, response string) ([]int, error) {
	text, err := p.Format(category, prompt, response)
	if err != nil {
		return nil, err
	}
	return p.Tokenizer.Encode(text, p.AddSpecialTokens), nil
}

// cutMiddle removes cut tokens from the middle of ids and returns the text
// of the two ends joined by cutMarker. Partial UTF-8 sequences at the cut
// are dropped.
func cutMiddle(t Tokenizer, ids []int, cut int) string {
	keep := len(ids) - cut
	head := keep / 2
	tail := keep - head

	front := strings.TrimRight(t.Decode(ids[:head], false), string(utf8.RuneError))
	back := strings.TrimLeft(t.Decode(ids[len(ids)-tail:], false), string(utf8.RuneError))
	return front + cutMarker + back
}
