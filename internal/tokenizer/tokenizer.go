// Package tokenizer reads Hugging Face tokenizer files (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json) and encodes and decodes
// text with the ids Hugging Face's tokenizers produce.
//
// It supports byte-pair-encoding models in both families in use: byte-level
// BPE (GPT-2, Llama 3, Qwen2/3, SmolLM) and SentencePiece-style BPE with
// byte fallback (Llama 2, Mistral, TinyLlama). The reference for every
// behaviour is the npm package @huggingface/tokenizers 0.2.0, except where
// it lacks a feature of the Rust crate; a NOTE at each spot where the two
// differ names the one this package follows. A component or regex
// pattern this package does not implement is rejected by Load with an error
// that names it.
//
// Data such as prompts and responses must never turn into special tokens:
// encode it with EncodeText, or pass it through EscapeSpecial before it is
// rendered into a chat template whose output goes to Encode.
package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Tokenizer encodes text to token ids and decodes ids to text. It is safe
// for concurrent use.
type Tokenizer struct {
	path string

	pieces  []string       // id -> vocabulary piece, added tokens included
	pieceID map[string]int // vocabulary piece -> id, added tokens first

	normalizer normalizer
	pre        preTokenizer
	model      *bpe
	decoder    decoder
	post       template

	added []*addedToken
	// rawMatcher and rawTextMatcher find added tokens with normalized=false
	// in the input; the Text variants leave out special tokens.
	rawMatcher, rawTextMatcher   *matcher
	normMatcher, normTextMatcher *matcher
	// specialMatcher finds special tokens' contents, for EscapeSpecial.
	specialMatcher *matcher

	special      map[string]bool // contents that Decode skips on request
	specialList  []string
	bos, eos     string
	pad, unk     string
	template     string
	hasTemplate  bool
	cleanUpSpace bool
}

// tokenizerFile is the top level of tokenizer.json.
type tokenizerFile struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         *modelConfig    `json:"model"`
}

// Load reads tokenizer.json from dir, and tokenizer_config.json and
// special_tokens_map.json when present. dir may be a model folder, a folder
// with only tokenizer files, or the path of tokenizer.json itself.
func Load(dir string) (*Tokenizer, error) {
	if info, err := os.Stat(dir); err == nil && !info.IsDir() && filepath.Base(dir) == "tokenizer.json" {
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(dir, "tokenizer.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer.json not found in %s: give a folder with Hugging Face's tokenizer.json (folders with only vocab.json and merges.txt, or tokenizer.model, are not supported)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var tf tokenizerFile
	if err := json.Unmarshal(raw, &tf); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if tf.Model == nil {
		return nil, fmt.Errorf("invalid %s: missing \"model\"", path)
	}

	var cfg, stm tokenizerConfig
	if _, err := readConfig(filepath.Join(dir, "tokenizer_config.json"), &cfg); err != nil {
		return nil, err
	}
	if _, err := readConfig(filepath.Join(dir, "special_tokens_map.json"), &stm); err != nil {
		return nil, err
	}
	cfg.mergeTokens(&stm)

	return build(path, &tf, &cfg)
}

// build assembles a Tokenizer from parsed files.
func build(path string, tf *tokenizerFile, cfg *tokenizerConfig) (*Tokenizer, error) {
	t := &Tokenizer{path: path, special: map[string]bool{}}
	var err error
	if t.normalizer, err = buildNormalizer(tf.Normalizer, path); err != nil {
		return nil, err
	}
	var byteLevel bool
	if t.pre, byteLevel, err = buildPreTokenizer(tf.PreTokenizer, path); err != nil {
		return nil, err
	}
	if t.model, err = buildBPE(tf.Model, byteLevel, path); err != nil {
		return nil, err
	}
	if t.post, err = buildPostProcessor(tf.PostProcessor, path); err != nil {
		return nil, err
	}

	if err := t.buildVocab(tf); err != nil {
		return nil, err
	}
	addedContents := map[string]bool{}
	for _, a := range t.added {
		addedContents[a.Content] = true
	}
	if t.decoder, err = buildDecoder(tf.Decoder, path, addedContents); err != nil {
		return nil, err
	}
	t.buildMatchers()

	if err := t.applyConfig(cfg, tf); err != nil {
		return nil, err
	}
	return t, nil
}

// buildVocab fills the id <-> piece tables from the model vocabulary and the
// added tokens, which take precedence.
func (t *Tokenizer) buildVocab(tf *tokenizerFile) error {
	size := 0
	for _, id := range tf.Model.Vocab {
		size = max(size, id+1)
	}
	for i := range tf.AddedTokens {
		a := &tf.AddedTokens[i]
		if limit := maxID(len(tf.Model.Vocab) + len(tf.AddedTokens)); a.ID < 0 || a.ID > limit {
			return fmt.Errorf("invalid added_tokens in %s: id %d of %q is outside 0..%d", t.path, a.ID, a.Content, limit)
		}
		if a.Content == "" {
			return fmt.Errorf("invalid added_tokens in %s: token %d has empty content", t.path, a.ID)
		}
		size = max(size, a.ID+1)
	}

	t.pieces = make([]string, size)
	t.pieceID = make(map[string]int, size)
	for piece, id := range tf.Model.Vocab {
		t.pieces[id] = piece
		t.pieceID[piece] = id
	}
	for i := range tf.AddedTokens {
		a := &tf.AddedTokens[i]
		t.added = append(t.added, a)
		t.pieces[a.ID] = a.Content
		t.pieceID[a.Content] = a.ID
		if a.Special {
			t.special[a.Content] = true
			t.specialList = append(t.specialList, a.Content)
		}
	}
	return nil
}

// buildMatchers builds the added-token matchers. Tokens with
// normalized=true are matched in normalized text, by their normalized
// content.
func (t *Tokenizer) buildMatchers() {
	var raw, rawText, normed, normedText, special []*addedToken
	var rawC, rawTextC, normC, normTextC, specialC []string
	for _, a := range t.added {
		if a.Special {
			special = append(special, a)
			specialC = append(specialC, a.Content)
		}
		if a.isNormalized() && t.normalizer != nil {
			c := t.normalizer.normalize(a.Content)
			normed, normC = append(normed, a), append(normC, c)
			if !a.Special {
				normedText, normTextC = append(normedText, a), append(normTextC, c)
			}
			continue
		}
		raw, rawC = append(raw, a), append(rawC, a.Content)
		if !a.Special {
			rawText, rawTextC = append(rawText, a), append(rawTextC, a.Content)
		}
	}
	t.rawMatcher = newMatcher(raw, rawC)
	t.rawTextMatcher = newMatcher(rawText, rawTextC)
	t.normMatcher = newMatcher(normed, normC)
	t.normTextMatcher = newMatcher(normedText, normTextC)
	if len(special) > 0 {
		t.specialMatcher = newMatcher(special, specialC)
	}
}

// applyConfig reads the special tokens, the chat template and the
// add_bos_token/add_eos_token flags of tokenizer_config.json.
func (t *Tokenizer) applyConfig(cfg *tokenizerConfig, tf *tokenizerFile) error {
	t.bos, t.eos, t.pad = cfg.BOSToken.Content, cfg.EOSToken.Content, cfg.PADToken.Content
	t.unk = cfg.UNKToken.Content
	if t.unk == "" && tf.Model.UNKToken != nil {
		t.unk = *tf.Model.UNKToken
	}
	t.template, t.hasTemplate = cfg.ChatTemplate.Template, cfg.ChatTemplate.Set
	t.cleanUpSpace = deref(cfg.CleanUpSpaces, true)
	for _, s := range cfg.AdditionalSpecialTokens {
		if s.Set && !t.special[s.Content] {
			t.special[s.Content] = true
			t.specialList = append(t.specialList, s.Content)
		}
	}

	// Like transformers' Llama tokenizers, explicit add_bos_token and
	// add_eos_token flags replace the post-processor's template.
	// NOTE: the reference npm package ignores these flags, so the two agree
	// only when the flags match the template.
	if cfg.AddBOSToken == nil && cfg.AddEOSToken == nil {
		return nil
	}
	cfgPath := filepath.Join(filepath.Dir(t.path), "tokenizer_config.json")
	var post template
	if deref(cfg.AddBOSToken, false) {
		id, ok := t.TokenID(t.bos)
		if t.bos == "" || !ok {
			return fmt.Errorf("invalid %s: add_bos_token is true but bos_token %q is not in the vocabulary", cfgPath, t.bos)
		}
		post.prefix = []int{id}
	}
	if deref(cfg.AddEOSToken, false) {
		id, ok := t.TokenID(t.eos)
		if t.eos == "" || !ok {
			return fmt.Errorf("invalid %s: add_eos_token is true but eos_token %q is not in the vocabulary", cfgPath, t.eos)
		}
		post.suffix = []int{id}
	}
	t.post = post
	return nil
}

// Tokens returns the vocabulary pieces of ids; an unknown id gives "".
func (t *Tokenizer) Tokens(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if id >= 0 && id < len(t.pieces) {
			out[i] = t.pieces[id]
		}
	}
	return out
}

// TokenID returns the id of a vocabulary piece or added token.
func (t *Tokenizer) TokenID(piece string) (int, bool) {
	id, ok := t.pieceID[piece]
	return id, ok
}

// VocabSize returns the number of ids, added tokens included: one more than
// the largest id.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

func (t *Tokenizer) lookup(piece string) (int, bool) {
	if piece == "" {
		return 0, false
	}
	return t.TokenID(piece)
}

// BOS returns the id of the beginning-of-sequence token, if configured.
func (t *Tokenizer) BOS() (int, bool) { return t.lookup(t.bos) }

// EOS returns the id of the end-of-sequence token, if configured.
func (t *Tokenizer) EOS() (int, bool) { return t.lookup(t.eos) }

// PAD returns the id of the padding token, if configured.
func (t *Tokenizer) PAD() (int, bool) { return t.lookup(t.pad) }

// UNK returns the id of the unknown token, if configured.
func (t *Tokenizer) UNK() (int, bool) { return t.lookup(t.unk) }

// BOSToken returns the beginning-of-sequence token as chat templates get it
// in bos_token, or "".
func (t *Tokenizer) BOSToken() string { return t.bos }

// EOSToken returns the end-of-sequence token as chat templates get it in
// eos_token, or "".
func (t *Tokenizer) EOSToken() string { return t.eos }

// SpecialTokens returns the contents of the added tokens marked special, in
// id order.
func (t *Tokenizer) SpecialTokens() []string {
	var out []*addedToken
	for _, a := range t.added {
		if a.Special {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	seen := map[string]bool{}
	var s []string
	for _, a := range out {
		if !seen[a.Content] {
			seen[a.Content] = true
			s = append(s, a.Content)
		}
	}
	return s
}

// ChatTemplate returns the chat_template of tokenizer_config.json: the
// string form, or the entry named "default" of the list form.
func (t *Tokenizer) ChatTemplate() (string, bool) { return t.template, t.hasTemplate }
