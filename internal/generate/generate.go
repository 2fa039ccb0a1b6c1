// Package generate decodes many sequences at once with continuous
// batching: a fixed number of KV cache slots decode together in one batched
// step, and the slot of a finished sequence is refilled from the queue at
// once, so sequences of different lengths keep the batch full.
//
// Each Request brings its own sample.Sampler and sample.Stopper. A
// sequence's tokens then depend only on its prompt, its sampler's seed and
// sequence index and the model, not on the batch size or on which other
// requests share its batch:
//
//	reqs := []generate.Request{{
//		Prompt:       ids,
//		MaxNewTokens: 256,
//		Sampler:      sample.New(cfg, 0),
//		Stopper:      sample.NewStopper(eos, nil, 256, decode),
//	}}
//	results, err := generate.Run(ctx, model, reqs, generate.Options{BatchSize: 8, CacheBytes: 1 << 30})
package generate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"ipo/internal/llama"
	"ipo/internal/sample"
)

// Request is one sequence to generate.
type Request struct {
	// Prompt is the token ids to continue; it must not be empty.
	Prompt []int

	// MaxNewTokens is the most tokens to generate. It sizes the KV cache,
	// so set it to the Stopper's limit. It is lowered for a prompt that
	// would otherwise pass max_position_embeddings.
	MaxNewTokens int

	// Sampler picks each next token. Stopper decides when the sequence
	// ends and decodes its text.
	Sampler *sample.Sampler
	Stopper *sample.Stopper
}

// Result is the outcome of one Request.
type Result struct {
	// Tokens is the generated ids, the stop token included.
	Tokens []int

	// Text is the generated text, cut before a stop string and without
	// the stop token.
	Text string

	// FinishReason is "stop" (a stop token or stop string) or "length"
	// (MaxNewTokens or the end of the model's context).
	FinishReason string

	// PromptTokens is len(Request.Prompt).
	PromptTokens int
}

// Options configure Run.
type Options struct {
	// BatchSize is the number of sequences decoded together, at least 1.
	BatchSize int

	// CacheBytes bounds the KV cache. Run fails with a
	// *llama.CacheSizeError when BatchSize sequences of the longest
	// prompt plus MaxNewTokens do not fit.
	CacheBytes int64

	// OnToken, when set, is called after each generated token of request
	// index with the request's text so far and whether it is done.
	OnToken func(index, token int, text string, done bool)

	// OnResult, when set, is called once for each request as soon as it
	// is done, in the order requests finish.
	OnResult func(index int, r Result)
}

// ErrEmptyPrompt is returned for a request without prompt tokens.
var ErrEmptyPrompt = errors.New("empty prompt: want at least one token, such as BOS")

// active is the state of one occupied cache slot.
type active struct {
	index   int   // request index
	history []int // prompt and generated tokens, for the repetition penalty
	limit   int   // tokens this sequence may generate
	next    int   // the sampled token not yet run through the model
}

// Run generates every request and returns their results in request order.
// It stops at the first error, or when ctx is done, returning the error.
func Run(ctx context.Context, m *llama.Model, reqs []Request, opts Options) ([]Result, error) {
	if opts.BatchSize < 1 {
		return nil, fmt.Errorf("batch size %d: want at least 1", opts.BatchSize)
	}
	capacity, err := checkRequests(m, reqs)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	slots := min(opts.BatchSize, len(reqs))
	cache, err := m.NewKVCache(slots, capacity, opts.CacheBytes)
	if err != nil {
		return nil, err
	}

	s := &scheduler{model: m, cache: cache, reqs: slices.Clone(reqs), opts: opts,
		results: make([]Result, len(reqs)), slots: make([]*active, slots), prefills: make([]int, slots)}
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	return s.results, nil
}

// checkRequests validates the requests and returns the cache positions
// that the longest one needs.
func checkRequests(m *llama.Model, reqs []Request) (int, error) {
	capacity := 1
	for i, r := range reqs {
		switch {
		case len(r.Prompt) == 0:
			return 0, fmt.Errorf("request %d: %w", i, ErrEmptyPrompt)
		case len(r.Prompt) >= m.Config.MaxPositions:
			return 0, fmt.Errorf("request %d: prompt of %d tokens leaves no room to generate within max_position_embeddings %d",
				i, len(r.Prompt), m.Config.MaxPositions)
		case r.MaxNewTokens < 1:
			return 0, fmt.Errorf("request %d: max new tokens is %d, want at least 1", i, r.MaxNewTokens)
		case r.Sampler == nil || r.Stopper == nil:
			return 0, fmt.Errorf("request %d: missing Sampler or Stopper", i)
		}
		capacity = max(capacity, len(r.Prompt)+limit(m, r)-1)
	}
	return capacity, nil
}

// limit returns how many tokens r may generate: MaxNewTokens, lowered so
// that prompt and generated tokens fit in max_position_embeddings.
func limit(m *llama.Model, r Request) int {
	return min(r.MaxNewTokens, m.Config.MaxPositions-len(r.Prompt))
}

// scheduler runs the continuous-batching loop over a fixed set of slots.
type scheduler struct {
	model   *llama.Model
	cache   *llama.KVCache
	reqs    []Request
	opts    Options
	results []Result
	slots   []*active // nil for a free slot
	queued  int       // requests taken from the queue so far

	// prefills counts the prefills of each slot, so that shared can tell
	// whether its slot still contains its prompt.
	prefills []int
	shared   sharedPrompt
}

// sharedPrompt is the latest prefilled prompt, kept so that the next
// request with the same prompt copies its keys and values instead of
// running the prompt again.
type sharedPrompt struct {
	prompt  []int
	slot    int
	prefill int // prefills[slot] right after this prompt's prefill
	logits  []float32
}

// run fills free slots, decodes one step for every occupied slot and
// repeats until the queue is empty and every slot is free.
func (s *scheduler) run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.fill(); err != nil {
			return err
		}

		var slots, tokens []int
		for slot, a := range s.slots {
			if a != nil {
				slots = append(slots, slot)
				tokens = append(tokens, a.next)
			}
		}
		if len(slots) == 0 {
			return nil
		}

		logits, err := s.model.Decode(s.cache, slots, tokens)
		if err != nil {
			return err
		}
		for i, slot := range slots {
			s.step(slot, logits[i])
		}
	}
}

// fill prefills queued requests into the free slots. A request that ends
// with its first token frees its slot for the next one at once.
func (s *scheduler) fill() error {
	for slot := range s.slots {
		for s.slots[slot] == nil && s.queued < len(s.reqs) {
			index := s.queued
			s.queued++
			r := s.reqs[index]

			logits, err := s.prefill(slot, r.Prompt)
			if err != nil {
				return fmt.Errorf("request %d: %w", index, err)
			}
			s.results[index].PromptTokens = len(r.Prompt)
			s.slots[slot] = &active{
				index:   index,
				history: slices.Clip(slices.Clone(r.Prompt)),
				limit:   limit(s.model, r),
			}
			s.step(slot, logits)
		}
	}
	return nil
}

// prefill stores the prompt's keys and values in slot and returns the
// logits of its last token. It copies them from the slot of the previous
// prompt when that prompt is the same and still in its slot, which gives
// the same keys, values and logits as running the prompt again.
func (s *scheduler) prefill(slot int, prompt []int) ([]float32, error) {
	sh := s.shared
	if sh.logits != nil && s.prefills[sh.slot] == sh.prefill && slices.Equal(sh.prompt, prompt) {
		if err := s.cache.CopyPrefix(slot, sh.slot, len(prompt)); err != nil {
			return nil, err
		}
		if slot != sh.slot {
			s.prefills[slot]++
		}
		return sh.logits, nil
	}

	s.cache.Reset(slot)
	s.prefills[slot]++
	logits, err := s.model.Prefill(s.cache, slot, prompt)
	if err != nil {
		return nil, err
	}
	s.shared = sharedPrompt{prompt: prompt, slot: slot, prefill: s.prefills[slot], logits: logits}
	return logits, nil
}

// step samples the next token of the sequence in slot from its logits and
// frees the slot when the sequence is done.
func (s *scheduler) step(slot int, logits []float32) {
	a := s.slots[slot]
	r := s.reqs[a.index]

	token := r.Sampler.Next(logits, a.history)
	a.history = append(a.history, token)
	done, _ := r.Stopper.Push(token)
	generated := len(a.history) - len(r.Prompt)
	reason := r.Stopper.FinishReason()
	if !done && generated >= a.limit {
		done, reason = true, "length"
	}
	if s.opts.OnToken != nil {
		s.opts.OnToken(a.index, token, r.Stopper.Text(), done)
	}
	if !done {
		a.next = token
		return
	}

	res := &s.results[a.index]
	res.Tokens = slices.Clone(r.Stopper.Tokens())
	res.Text = r.Stopper.Text()
	res.FinishReason = reason
	s.slots[slot] = nil

	// Drop the sampler and stopper, whose scratch buffers are as large as
	// the vocabulary, so that finished requests do not keep them.
	s.reqs[a.index].Sampler, s.reqs[a.index].Stopper = nil, nil
	if s.opts.OnResult != nil {
		s.opts.OnResult(a.index, *res)
	}
}
