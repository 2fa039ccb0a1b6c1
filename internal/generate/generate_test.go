package generate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ipo/internal/llama"
	"ipo/internal/sample"
	"ipo/internal/testutil"
	"ipo/internal/tokenizer"
)

func loadModel(t *testing.T, name string) *llama.Model {
	t.Helper()
	m, err := llama.Load(filepath.Join("..", "llama", "testdata", "models", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// idText decodes ids as their decimal values, so stop strings can be
// tested without a tokenizer.
func idText(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "<%d>", id)
	}
	return b.String()
}

// requests builds count requests with random prompts of different lengths
// and limits, each with sequence index equal to its position. Requests
// come in threes that share a prompt, as `ipo sample --n 3` makes them.
func requests(m *llama.Model, count int, cfg sample.Config) []Request {
	rng := rand.New(rand.NewPCG(5, 6))
	reqs := make([]Request, count)
	var prompt []int
	for i := range reqs {
		if i%3 == 0 {
			prompt = make([]int, 1+rng.IntN(12))
			for j := range prompt {
				prompt[j] = rng.IntN(m.Config.VocabSize)
			}
		}
		maxNew := 1 + rng.IntN(16)
		reqs[i] = Request{
			Prompt:       prompt,
			MaxNewTokens: maxNew,
			Sampler:      sample.New(cfg, uint64(i)),
			Stopper:      sample.NewStopper([]int{3}, nil, maxNew, idText),
		}
	}
	return reqs
}

func sampling(seed uint64) sample.Config {
	cfg := sample.DefaultConfig()
	cfg.DoSample = true
	cfg.TopK = 0
	cfg.Temperature = 1.3
	cfg.Seed = seed
	return cfg
}

func TestRunIndependentOfBatchSize(t *testing.T) {
	m := loadModel(t, "qwen3_qknorm_bf16")
	configs := map[string]sample.Config{"greedy": sample.DefaultConfig(), "seeded": sampling(42)}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			want, err := Run(context.Background(), m, requests(m, 11, cfg), Options{BatchSize: 1, CacheBytes: 1 << 30})
			if err != nil {
				t.Fatalf("Run(batch 1): %v", err)
			}
			for _, batch := range []int{2, 5, 8, 11, 32} {
				got, err := Run(context.Background(), m, requests(m, 11, cfg), Options{BatchSize: batch, CacheBytes: 1 << 30})
				if err != nil {
					t.Fatalf("Run(batch %d): %v", batch, err)
				}
				for i := range want {
					if !slices.Equal(got[i].Tokens, want[i].Tokens) {
						t.Errorf("batch %d request %d: tokens %v, want %v as with batch 1", batch, i, got[i].Tokens, want[i].Tokens)
					}
				}
			}
		})
	}
}

func TestRunSeedChangesSamples(t *testing.T) {
	m := loadModel(t, "llama_f32")
	a, err := Run(context.Background(), m, requests(m, 6, sampling(1)), Options{BatchSize: 4, CacheBytes: 1 << 30})
	if err != nil {
		t.Fatalf("Run(seed 1): %v", err)
	}
	again, err := Run(context.Background(), m, requests(m, 6, sampling(1)), Options{BatchSize: 4, CacheBytes: 1 << 30})
	if err != nil {
		t.Fatalf("Run(seed 1 again): %v", err)
	}
	b, err := Run(context.Background(), m, requests(m, 6, sampling(2)), Options{BatchSize: 4, CacheBytes: 1 << 30})
	if err != nil {
		t.Fatalf("Run(seed 2): %v", err)
	}
	same, differ := true, false
	for i := range a {
		same = same && slices.Equal(a[i].Tokens, again[i].Tokens)
		differ = differ || !slices.Equal(a[i].Tokens, b[i].Tokens)
	}
	if !same {
		t.Errorf("two runs with seed 1 gave different tokens, want identical")
	}
	if !differ {
		t.Errorf("seeds 1 and 2 gave the same tokens for all 6 requests, want different samples")
	}
}

func TestRunGreedyMatchesUncached(t *testing.T) {
	for _, name := range []string{"llama_f32", "mistral_window_f16", "qwen2_bias_tied_f16"} {
		t.Run(name, func(t *testing.T) {
			m := loadModel(t, name)
			reqs := requests(m, 5, sample.DefaultConfig())
			results, err := Run(context.Background(), m, reqs, Options{BatchSize: 3, CacheBytes: 1 << 30})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for i, r := range reqs {
				want, err := m.Greedy(r.Prompt, r.MaxNewTokens, []int{3})
				if err != nil {
					t.Fatalf("Greedy: %v", err)
				}
				if !slices.Equal(results[i].Tokens, want) {
					t.Errorf("request %d: tokens %v, want %v from Greedy without cache", i, results[i].Tokens, want)
				}
			}
		})
	}
}

func TestRunFinishReasons(t *testing.T) {
	m := loadModel(t, "llama_f32")
	greedy := sample.DefaultConfig()
	prompt := []int{1, 17, 29}
	free, err := m.Greedy(prompt, 6, nil)
	if err != nil {
		t.Fatalf("Greedy: %v", err)
	}

	tests := []struct {
		name       string
		stopIDs    []int
		stops      []string
		maxNew     int
		wantTokens []int
		wantText   string
		wantReason string
	}{
		{"length", nil, nil, 6, free, idText(free), "length"},
		{"stop token", free[2:3], nil, 6, free[:3], idText(free[:2]), "stop"},
		{"stop string", nil, []string{idText(free[1:3])}, 6, free[:3], idText(free[:1]), "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Prompt: prompt, MaxNewTokens: tt.maxNew, Sampler: sample.New(greedy, 0),
				Stopper: sample.NewStopper(tt.stopIDs, tt.stops, tt.maxNew, idText)}
			results, err := Run(context.Background(), m, []Request{req}, Options{BatchSize: 1, CacheBytes: 1 << 20})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := results[0]
			if !slices.Equal(got.Tokens, tt.wantTokens) {
				t.Errorf("tokens %v, want %v", got.Tokens, tt.wantTokens)
			}
			if got.Text != tt.wantText {
				t.Errorf("text %q, want %q", got.Text, tt.wantText)
			}
			if got.FinishReason != tt.wantReason {
				t.Errorf("finish reason %q, want %q", got.FinishReason, tt.wantReason)
			}
			if got.PromptTokens != len(prompt) {
				t.Errorf("prompt tokens %d, want %d", got.PromptTokens, len(prompt))
			}
		})
	}
}

func TestRunCallbacks(t *testing.T) {
	m := loadModel(t, "llama_f32")
	reqs := requests(m, 7, sampling(9))
	streamed := make([]string, len(reqs))
	tokens := make([]int, len(reqs))
	var finished []int
	opts := Options{
		BatchSize:  3,
		CacheBytes: 1 << 30,
		OnToken: func(index, token int, text string, done bool) {
			tokens[index]++
			streamed[index] = text
		},
		OnResult: func(index int, r Result) { finished = append(finished, index) },
	}
	results, err := Run(context.Background(), m, reqs, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, r := range results {
		if tokens[i] != len(r.Tokens) {
			t.Errorf("request %d: OnToken called %d times, want %d", i, tokens[i], len(r.Tokens))
		}
		if streamed[i] != r.Text {
			t.Errorf("request %d: last streamed text %q, want %q", i, streamed[i], r.Text)
		}
	}
	slices.Sort(finished)
	if want := []int{0, 1, 2, 3, 4, 5, 6}; !slices.Equal(finished, want) {
		t.Errorf("OnResult indexes %v, want each of %v once", finished, want)
	}
}

func TestRunErrors(t *testing.T) {
	m := loadModel(t, "llama_f32")
	greedy := sample.DefaultConfig()
	good := func() Request {
		return Request{Prompt: []int{1}, MaxNewTokens: 4, Sampler: sample.New(greedy, 0), Stopper: sample.NewStopper(nil, nil, 4, nil)}
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		ctx  context.Context
		req  func(r *Request)
		opts Options
		want string
	}{
		{"empty prompt", context.Background(), func(r *Request) { r.Prompt = nil }, Options{BatchSize: 1, CacheBytes: 1 << 30}, "empty prompt"},
		{"no max new tokens", context.Background(), func(r *Request) { r.MaxNewTokens = 0 }, Options{BatchSize: 1, CacheBytes: 1 << 30}, "max new tokens is 0"},
		{"no sampler", context.Background(), func(r *Request) { r.Sampler = nil }, Options{BatchSize: 1, CacheBytes: 1 << 30}, "missing Sampler"},
		{"prompt fills context", context.Background(), func(r *Request) { r.Prompt = make([]int, m.Config.MaxPositions) }, Options{BatchSize: 1, CacheBytes: 1 << 30}, "max_position_embeddings"},
		{"zero batch", context.Background(), func(r *Request) {}, Options{BatchSize: 0, CacheBytes: 1 << 30}, "batch size 0"},
		{"cache too small", context.Background(), func(r *Request) {}, Options{BatchSize: 1, CacheBytes: 10}, "MiB"},
		{"canceled", canceled, func(r *Request) {}, Options{BatchSize: 1, CacheBytes: 1 << 30}, "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.req(&r)
			_, err := Run(tt.ctx, m, []Request{r}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}

	var sizeErr *llama.CacheSizeError
	if _, err := Run(context.Background(), m, []Request{good()}, Options{BatchSize: 1, CacheBytes: 10}); !errors.As(err, &sizeErr) {
		t.Errorf("cache too small: error %v, want a *llama.CacheSizeError", err)
	}
}

func TestRunStories260KFromBOS(t *testing.T) {
	dir := testutil.Shared(t, "models/stories260K")
	m, err := llama.Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer m.Close()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatalf("tokenizer.Load: %v", err)
	}

	decode := func(ids []int) string { return tok.Decode(ids, true) }
	reqs := make([]Request, 3)
	for i := range reqs {
		reqs[i] = Request{Prompt: []int{1}, MaxNewTokens: 40, Sampler: sample.New(sample.DefaultConfig(), uint64(i)),
			Stopper: sample.NewStopper([]int{2}, nil, 40, decode)}
	}
	results, err := Run(context.Background(), m, reqs, Options{BatchSize: 2, CacheBytes: 1 << 20})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	const want = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
	for i, r := range results {
		if !strings.HasPrefix(r.Text, want) {
			t.Errorf("request %d: text %q, want it to start with %q", i, r.Text, want)
		}
	}
}
