package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"ipo/internal/generate"
	"ipo/internal/llama"
	"ipo/internal/sample"
	"ipo/internal/tokenizer"
)

func init() {
	commands["generate"] = command{summary: "continue one prompt, streaming the text to stdout", run: runGenerate}
}

// defaultMaxNewTokens is the token limit when neither --max-new-tokens nor
// generation_config.json's max_new_tokens sets one. Hugging Face's
// max_length default of 20 is too short for judge verdicts and responses.
const defaultMaxNewTokens = 256

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(value string) error {
	*l = append(*l, value)
	return nil
}

// maxKVCacheMB bounds --kv-cache-mb so that its byte count fits an int64
// (2^30 MiB is 1 PiB, far past any machine's memory).
const maxKVCacheMB = 1 << 30

// samplingFlags are the decoding flags shared by generate and sample.
type samplingFlags struct {
	temperature, topP, minP, repetitionPenalty *float64
	topK                                       *int
	seed                                       *uint64
	greedy                                     *bool
	stops                                      stringList
	maxNew                                     *int
	batchSize                                  *int
	kvCacheMB                                  *int
}

// addSamplingFlags defines the decoding flags on fs. batchSize is the
// default of --batch-size, and 0 leaves that flag out for a command that
// decodes one sequence.
func addSamplingFlags(fs *flag.FlagSet, batchSize int) *samplingFlags {
	f := &samplingFlags{}
	f.temperature = fs.Float64("temperature", 1, "divide the logits by this before sampling; 0 means greedy decoding; when not given, generation_config.json's value or this default")
	f.topK = fs.Int("top-k", 50, "sample only from the k most likely tokens; 0 turns it off; when not given, generation_config.json's value or this default")
	f.topP = fs.Float64("top-p", 1, "sample only from the most likely tokens whose probabilities sum to p; 1 turns it off; when not given, generation_config.json's value or this default")
	f.minP = fs.Float64("min-p", 0, "drop tokens less likely than min-p times the most likely one; 0 turns it off; when not given, generation_config.json's value or this default")
	f.repetitionPenalty = fs.Float64("repetition-penalty", 1, "divide the positive logits of tokens already in the sequence by this, multiply the negative ones; 1 turns it off; when not given, generation_config.json's value or this default")
	f.seed = fs.Uint64("seed", 0, "random seed; the same seed and inputs give the same text at any --batch-size")
	f.greedy = fs.Bool("greedy", false, "pick the most likely token at each step instead of sampling")
	fs.Var(&f.stops, "stop", "stop string that ends a response, cut from the text (repeatable)")
	f.maxNew = fs.Int("max-new-tokens", 0, fmt.Sprintf("most tokens to generate per response; 0 takes max_new_tokens from generation_config.json, else %d", defaultMaxNewTokens))
	f.batchSize = new(int)
	*f.batchSize = 1
	if batchSize > 0 {
		f.batchSize = fs.Int("batch-size", batchSize, "number of sequences decoded together")
	}
	f.kvCacheMB = fs.Int("kv-cache-mb", 4096, "memory limit of the KV cache in MiB")
	return f
}

// config returns the sampling settings: generation_config.json's values,
// with sampling turned on when sampleByDefault is set, then the flags given
// on the command line. Setting --temperature above 0, --top-k, --top-p or
// --min-p turns sampling on, and --temperature 0 or --greedy turns it off.
func (f *samplingFlags) config(fs *flag.FlagSet, gen llama.GenerationConfig, sampleByDefault bool) (sample.Config, error) {
	cfg := sample.FromGeneration(gen)
	if sampleByDefault {
		cfg.DoSample = true
	}
	cfg.Seed = *f.seed

	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["top-k"] {
		cfg.TopK, cfg.DoSample = *f.topK, true
	}
	if set["top-p"] {
		cfg.TopP, cfg.DoSample = *f.topP, true
	}
	if set["min-p"] {
		cfg.MinP, cfg.DoSample = *f.minP, true
	}
	if set["repetition-penalty"] {
		cfg.RepetitionPenalty = *f.repetitionPenalty
	}
	if set["temperature"] {
		cfg.Temperature = *f.temperature
		cfg.DoSample = *f.temperature > 0
	}
	if *f.greedy {
		cfg.DoSample = false
	}
	// transformers ignores the temperature of a greedy generation_config.json,
	// and such files often hold 0; sampling by default then uses 1.
	if cfg.DoSample && !set["temperature"] && cfg.Temperature <= 0 {
		slog.Info("generation_config.json has temperature 0 for greedy decoding; sampling with temperature 1 (set --temperature to change it)")
		cfg.Temperature = 1
	}
	if err := cfg.Validate(); err != nil {
		return sample.Config{}, err
	}

	if *f.batchSize < 1 {
		return sample.Config{}, fmt.Errorf("--batch-size must be at least 1, got %d", *f.batchSize)
	}
	if *f.kvCacheMB < 1 || *f.kvCacheMB > maxKVCacheMB {
		return sample.Config{}, fmt.Errorf("--kv-cache-mb must be between 1 and %d, got %d", maxKVCacheMB, *f.kvCacheMB)
	}
	if *f.maxNew < 0 {
		return sample.Config{}, fmt.Errorf("--max-new-tokens must be 0 (from generation_config.json) or more, got %d", *f.maxNew)
	}
	return cfg, nil
}

// maxNewTokens returns --max-new-tokens, or generation_config.json's
// max_new_tokens, or defaultMaxNewTokens.
func (f *samplingFlags) maxNewTokens(gen llama.GenerationConfig) int {
	switch {
	case *f.maxNew > 0:
		return *f.maxNew
	case gen.MaxNewTokens > 0:
		return gen.MaxNewTokens
	}
	return defaultMaxNewTokens
}

// options returns the generate.Options of the batch and cache flags.
func (f *samplingFlags) options() generate.Options {
	return generate.Options{BatchSize: *f.batchSize, CacheBytes: int64(*f.kvCacheMB) << 20}
}

// cacheAdvice adds to a KV cache size error the flags that fix it.
func cacheAdvice(err error) error {
	var sizeErr *llama.CacheSizeError
	if errors.As(err, &sizeErr) {
		return fmt.Errorf("%w: raise --kv-cache-mb to %d, or lower --batch-size or --max-new-tokens",
			err, (sizeErr.Need+1<<20-1)>>20)
	}
	return err
}

// generationSetup is a model loaded for generation, with its
// generation_config.json (or Hugging Face's defaults) and the sampling
// settings the flags make of it.
type generationSetup struct {
	model *llama.Model
	tok   *tokenizer.Tokenizer
	dir   string
	gen   llama.GenerationConfig
	cfg   sample.Config
}

// load loads the model of --model and merges the sampling flags with its
// generation_config.json.
func (f *samplingFlags) load(ctx context.Context, fs *flag.FlagSet, modelArg string, sampleByDefault bool) (*generationSetup, error) {
	model, tok, dir, err := loadModel(ctx, modelArg)
	if err != nil {
		return nil, err
	}
	gs := &generationSetup{model: model, tok: tok, dir: dir}
	if gs.gen, _, err = llama.LoadGenerationConfig(dir); err == nil {
		gs.cfg, err = f.config(fs, gs.gen, sampleByDefault)
	}
	if err != nil {
		model.Close()
		return nil, err
	}
	return gs, nil
}

func runGenerate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("generate", "--model DIR [--prompt TEXT] [--max-new-tokens N] [sampling flags]")
	modelArg := fs.String("model", "", "model folder or Hugging Face id (required)")
	prompt := fs.String("prompt", "", "prompt text; empty starts from BOS alone")
	chatTemplate := fs.String("chat-template", "none", "auto (the model's chat template, as a user message), none (raw prompt) or a template FILE")
	flags := addSamplingFlags(fs, 0)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := requireFlag(fs, "model", *modelArg); err != nil {
		return err
	}

	gs, err := flags.load(ctx, fs, *modelArg, false)
	if err != nil {
		return err
	}
	defer gs.model.Close()
	model, tok, dir, gen, cfg := gs.model, gs.tok, gs.dir, gs.gen, gs.cfg

	ids, err := encodePrompt(tok, dir, *chatTemplate, *prompt)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("the prompt encodes to no tokens and the tokenizer adds no BOS; give --prompt")
	}

	maxNew := flags.maxNewTokens(gen)
	decode := func(ids []int) string { return tok.Decode(ids, true) }
	req := generate.Request{
		Prompt:       ids,
		MaxNewTokens: maxNew,
		Sampler:      sample.New(cfg, 0),
		Stopper:      sample.NewStopper(stopTokens(model, tok, dir), flags.stops, maxNew, decode),
	}

	stream := newTextStream(stdout, flags.stops)
	opts := flags.options()
	opts.OnToken = func(_, _ int, text string, done bool) { stream.update(text, done) }
	start := time.Now()
	results, err := generate.Run(ctx, model, []generate.Request{req}, opts)
	if err != nil {
		return cacheAdvice(err)
	}
	elapsed := time.Since(start)
	if stream.err != nil {
		return fmt.Errorf("write output: %w", stream.err)
	}
	fmt.Fprintln(stdout)

	r := results[0]
	fmt.Fprintf(errOutput(ctx), "generated %d tokens in %.2fs (%.1f tokens/s), finish reason %s\n",
		len(r.Tokens), elapsed.Seconds(), float64(len(r.Tokens))/elapsed.Seconds(), r.FinishReason)
	return nil
}

// textStream writes a growing text as it is generated. Until the text is
// done it holds back the bytes that could start a stop string, because the
// Stopper cuts a stop string from the text only once it is complete.
type textStream struct {
	w       io.Writer
	hold    int // bytes held back: the longest stop string less one
	written int
	err     error
}

func newTextStream(w io.Writer, stops []string) *textStream {
	hold := 0
	for _, s := range stops {
		hold = max(hold, len(s)-1)
	}
	return &textStream{w: w, hold: hold}
}

// update writes the part of text that is final and not yet written.
func (s *textStream) update(text string, done bool) {
	end := len(text)
	if !done {
		end -= s.hold
	}
	if end <= s.written || s.err != nil {
		return
	}
	_, s.err = io.WriteString(s.w, text[s.written:end])
	s.written = end
}
