package sample

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ipo/internal/llama"
)

func TestGreedyPicksLowestIdOnTies(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		logits []float32
		want   int
	}{
		{"single max", []float32{0.1, 2, -1}, 1},
		{"tie takes lowest id", []float32{1, 3, 3, 2}, 1},
		{"all equal", []float32{0.5, 0.5, 0.5}, 0},
		{"NaN skipped", []float32{nan, 1, 2, nan}, 2},
		{"all NaN", []float32{nan, nan}, 0},
		{"all -Inf", []float32{-inf, -inf, -inf}, 0},
		{"+Inf wins", []float32{1, inf, 2}, 1},
		{"empty logits", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Temperature = 0.3 // ignored by greedy decoding
			if got := New(cfg, 0).Next(tt.logits, nil); got != tt.want {
				t.Errorf("Next(%v) = %d, want %d", tt.logits, got, tt.want)
			}
		})
	}
}

func TestRepetitionPenaltyByHand(t *testing.T) {
	logits := []float32{2.0, -1.0, 0.0, 0.5, -0.25, 3.0}
	// Token 1 appears twice but is penalized once. 99 and -1 are outside
	// the vocabulary and skipped. Token 5 is absent.
	history := []int{0, 1, 1, 2, 4, 99, -1}
	tests := []struct {
		penalty float64
		want    []float64
	}{
		{2, []float64{1.0, -2.0, 0.0, 0.5, -0.5, 3.0}},
		{1.25, []float64{1.6, -1.25, 0.0, 0.5, -0.3125, 3.0}},
		{0.5, []float64{4.0, -0.5, 0.0, 0.5, -0.125, 3.0}},
	}
	for _, tt := range tests {
		scores := make([]float64, len(logits))
		for i, v := range logits {
			scores[i] = float64(v)
		}
		penalize(scores, logits, history, tt.penalty)
		if diff := cmp.Diff(tt.want, scores); diff != "" {
			t.Errorf("penalty %g: scores (-want +got):\n%s", tt.penalty, diff)
		}
	}
}

func TestRepetitionPenaltyChangesGreedy(t *testing.T) {
	positive := []float32{2.0, 1.9, -0.5, -0.6}
	negative := []float32{-1.0, -1.2, -3}
	tests := []struct {
		name    string
		logits  []float32
		penalty float64
		history []int
		want    int
	}{
		{"no penalty", positive, 1, []int{0}, 0},
		{"repeated top token loses", positive, 1.1, []int{0}, 1},
		{"small penalty keeps top", positive, 1.04, []int{0}, 0},
		{"both penalized keeps order", positive, 1.3, []int{0, 1}, 0},
		{"negative logit multiplied", negative, 1.3, []int{0}, 1},
		{"negative logit divided would keep", negative, 1.1, []int{0}, 0},
		{"penalty below one favours repeats", positive, 0.5, []int{1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.RepetitionPenalty = tt.penalty
			if got := New(cfg, 0).Next(tt.logits, tt.history); got != tt.want {
				t.Errorf("Next = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNextLeavesLogitsUnchanged(t *testing.T) {
	logits := slices.Clone(fixedLogits)
	cfg := sampling(0.5, 3, 0.9, 0.05)
	cfg.RepetitionPenalty = 1.5
	s := New(cfg, 0)
	for range 10 {
		s.Next(logits, []int{1, 2, 3})
	}
	if !slices.Equal(logits, fixedLogits) {
		t.Errorf("logits changed to %v, want %v", logits, fixedLogits)
	}
}

// tokens draws n tokens from s on fixedLogits.
func tokens(s *Sampler, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = s.Next(fixedLogits, nil)
	}
	return out
}

func TestSamplerReproducible(t *testing.T) {
	cfg := sampling(1.5, 0, 1, 0)
	first := tokens(New(cfg, 3), 200)

	if got := tokens(New(cfg, 3), 200); !slices.Equal(got, first) {
		t.Errorf("same seed and sequence gave\n%v\nthen\n%v", first, got)
	}
	if got := tokens(New(cfg, 4), 200); slices.Equal(got, first) {
		t.Errorf("sequences 3 and 4 gave the same 200 tokens %v", got)
	}

	other := cfg
	other.Seed++
	if got := tokens(New(other, 3), 200); slices.Equal(got, first) {
		t.Errorf("seeds %d and %d gave the same 200 tokens %v", cfg.Seed, other.Seed, got)
	}

	// Settings change the distribution, not the random stream: with top-k
	// 1 every draw is the top token.
	greedyLike := cfg
	greedyLike.TopK = 1
	for i, id := range tokens(New(greedyLike, 3), 50) {
		if id != 1 {
			t.Fatalf("top-k 1 draw %d = %d, want 1", i, id)
		}
	}
}

// TestSamplerBatchIndependent runs the same sequences in batches of
// different sizes, with an unrelated sampler drawing between steps, and
// checks that every sequence draws the same tokens as it does alone.
func TestSamplerBatchIndependent(t *testing.T) {
	cfg := sampling(1, 0, 0.95, 0)
	const steps = 100

	alone := make([][]int, 8)
	for seq := range alone {
		alone[seq] = tokens(New(cfg, uint64(seq)), steps)
	}

	for _, batch := range []int{1, 3, 8} {
		// Sequences 0..batch-1 run together, step by step.
		samplers := make([]*Sampler, batch)
		for seq := range samplers {
			samplers[seq] = New(cfg, uint64(seq))
		}
		got := make([][]int, batch)
		for range steps {
			for seq, s := range samplers {
				got[seq] = append(got[seq], s.Next(fixedLogits, got[seq]))
			}
			// An unrelated sampler with the same seed in between.
			New(cfg, 1000).Next(fixedLogits, nil)
		}
		for seq := range got {
			if !slices.Equal(got[seq], alone[seq]) {
				t.Errorf("batch %d sequence %d drew\n%v\nwant\n%v", batch, seq, got[seq], alone[seq])
			}
		}
	}
}

func TestSamplerHandlesInfinities(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		logits  []float32
		allowed []int
	}{
		{"masked tokens never drawn", []float32{-inf, 0, -inf, 0}, []int{1, 3}},
		{"NaN never drawn", []float32{nan, 0, nan, 0}, []int{1, 3}},
		{"+Inf takes all", []float32{0, inf, 5, inf}, []int{1, 3}},
		{"all masked falls back to greedy", []float32{-inf, -inf}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(sampling(0.7, 0, 0.9, 0.1), 0)
			for range 200 {
				if id := s.Next(tt.logits, nil); !slices.Contains(tt.allowed, id) {
					t.Fatalf("drew %d, want one of %v", id, tt.allowed)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	sample := func(change func(*Config)) Config {
		c := DefaultConfig()
		c.DoSample = true
		change(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error, "" for none
	}{
		{"defaults", DefaultConfig(), ""},
		{"sampling defaults", sample(func(c *Config) {}), ""},
		{"greedy temperature 0", Config{Temperature: 0, TopP: 1, RepetitionPenalty: 1}, ""},
		{"sampling temperature 0", sample(func(c *Config) { c.Temperature = 0 }), "--temperature is 0"},
		{"negative temperature", sample(func(c *Config) { c.Temperature = -1 }), "--temperature is -1"},
		{"NaN temperature", sample(func(c *Config) { c.Temperature = math.NaN() }), "--temperature is NaN"},
		{"negative top-k", sample(func(c *Config) { c.TopK = -2 }), "--top-k is -2"},
		{"top-p 0", sample(func(c *Config) { c.TopP = 0 }), "--top-p is 0"},
		{"top-p above 1", sample(func(c *Config) { c.TopP = 1.5 }), "--top-p is 1.5"},
		{"top-p 1 is off", sample(func(c *Config) { c.TopP = 1 }), ""},
		{"min-p negative", sample(func(c *Config) { c.MinP = -0.1 }), "--min-p is -0.1"},
		{"min-p above 1", sample(func(c *Config) { c.MinP = 2 }), "--min-p is 2"},
		{"repetition penalty 0", sample(func(c *Config) { c.RepetitionPenalty = 0 }), "--repetition-penalty is 0"},
		{"repetition penalty Inf", sample(func(c *Config) { c.RepetitionPenalty = math.Inf(1) }), "--repetition-penalty is +Inf"},
		{"zero config", Config{}, "--top-p is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFromGeneration(t *testing.T) {
	gen, err := llama.ParseGenerationConfig([]byte(`{"do_sample": true, "temperature": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1, "eos_token_id": [1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{DoSample: true, Temperature: 0.6, TopK: 20, TopP: 0.9, MinP: 0.05, RepetitionPenalty: 1.1}
	if diff := cmp.Diff(want, FromGeneration(gen)); diff != "" {
		t.Errorf("FromGeneration (-want +got):\n%s", diff)
	}

	empty, err := llama.ParseGenerationConfig([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultConfig(), FromGeneration(empty)); diff != "" {
		t.Errorf("FromGeneration of an empty file (-want +got):\n%s", diff)
	}
}

func TestStopIDs(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		extra []int
		want  []int
	}{
		{"list and tokenizer", `{"eos_token_id": [151645, 151643]}`, []int{151645}, []int{151643, 151645}},
		{"single id", `{"eos_token_id": 2}`, nil, []int{2}},
		{"tokenizer only", `{}`, []int{0}, []int{0}},
		{"negative dropped", `{"eos_token_id": 2}`, []int{-1}, []int{2}},
		{"none", `{}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gen, err := llama.ParseGenerationConfig([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := StopIDs(gen, tt.extra...); !slices.Equal(got, tt.want) {
				t.Errorf("StopIDs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMaxNewTokens(t *testing.T) {
	tests := []struct {
		name   string
		json   string
		prompt int
		want   int
	}{
		{"max_new_tokens set", `{"max_new_tokens": 256, "max_length": 30}`, 100, 256},
		{"default max_length 20", `{}`, 5, 15},
		{"max_length from file", `{"max_length": 4096}`, 96, 4000},
		{"prompt longer than max_length", `{}`, 25, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gen, err := llama.ParseGenerationConfig([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := MaxNewTokens(gen, tt.prompt); got != tt.want {
				t.Errorf("MaxNewTokens(%d) = %d, want %d", tt.prompt, got, tt.want)
			}
		})
	}
}
