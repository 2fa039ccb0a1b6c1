package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"ipo/internal/chat"
	"ipo/internal/generate"
	"ipo/internal/progress"
	"ipo/internal/resume"
	"ipo/internal/sample"
)

func init() {
	commands["sample"] = command{summary: "sample N responses per prompt into a JSON Lines file", run: runSample}
}

// sampleRecord is one line of `ipo sample` output: all responses to one
// prompt, so that a resumed run skips whole prompts.
type sampleRecord struct {
	ID           string           `json:"id"`
	Prompt       string           `json:"prompt"`
	Messages     []sample.Message `json:"messages,omitempty"`
	Category     string           `json:"category,omitempty"`
	Responses    []sampleResponse `json:"responses"`
	PromptTokens int              `json:"prompt_tokens"`
	Seed         uint64           `json:"seed"`
}

// sampleResponse is one generated response.
type sampleResponse struct {
	Text         string `json:"text"`
	FinishReason string `json:"finish_reason"`
	Tokens       int    `json:"tokens"`
}

// sequenceIndex returns the sampler's sequence index of response number
// response to the prompt with the given id: an FNV-1a hash of both. It
// does not depend on the prompt's position, the batch or a resume.
func sequenceIndex(id string, response int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	var n [9]byte // a zero byte ends the id, so "a"+"1…" differs from "a1"+"…"
	binary.LittleEndian.PutUint64(n[1:], uint64(response))
	h.Write(n[:])
	return h.Sum64()
}

// maxResponses bounds --n: the responses of a chunk of prompts are held in
// memory until each prompt is complete.
const maxResponses = 1 << 16

func runSample(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("sample", "--model DIR --data FILE --out FILE [--n 4] [sampling flags]")
	modelArg := fs.String("model", "", "model folder or Hugging Face id (required)")
	data := fs.String("data", "", "prompts: a JSON, JSON Lines or Parquet file, or a folder of them (required)")
	field := fs.String("field", "", "field with the prompt text or chat messages (default: the first of prompt, instruction, input, messages)")
	idField := fs.String("id-field", "", "field with each prompt's unique id (default: id, else the row number)")
	n := fs.Int("n", 4, "responses per prompt")
	out := fs.String("out", "", "output JSON Lines file; an existing file is resumed (required)")
	limit := fs.Int("limit", 0, "sample only the first N prompts; 0 takes all")
	skipLong := fs.Bool("skip-long", false, "leave out prompts that fill the model's context, instead of failing")
	chatTemplate := fs.String("chat-template", "auto", "auto (the model's chat template), none (raw prompts) or a template FILE")
	flags := addSamplingFlags(fs, 8)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for _, req := range [][2]string{{"model", *modelArg}, {"data", *data}, {"out", *out}} {
		if err := requireFlag(fs, req[0], req[1]); err != nil {
			return err
		}
	}
	if *n < 1 || *n > maxResponses {
		return fmt.Errorf("--n must be between 1 and %d, got %d", maxResponses, *n)
	}
	if *limit < 0 {
		return fmt.Errorf("--limit must be 0 (all prompts) or more, got %d", *limit)
	}

	prompts, err := sample.ReadPrompts(*data, *field, *idField)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(prompts) {
		prompts = prompts[:*limit]
	}

	gs, err := flags.load(ctx, fs, *modelArg, true)
	if err != nil {
		return err
	}
	defer gs.model.Close()
	model, tok, dir, gen, cfg := gs.model, gs.tok, gs.dir, gs.gen, gs.cfg
	enc, err := newPromptEncoder(tok, dir, *chatTemplate)
	if err != nil {
		return err
	}

	if err := checkResumable(*out, cfg.Seed, *n, prompts); err != nil {
		return err
	}
	identity, err := sampleIdentity(dir, enc, cfg, *n, flags.maxNewTokens(gen), flags.stops)
	if err != nil {
		return err
	}
	if err := checkMeta(*out, identity); err != nil {
		return err
	}
	// Each prompt's record is flushed to disk as soon as it is written, so
	// a killed run loses only prompts still being sampled.
	w, err := resume.Open(*out, resume.Options{Key: resume.FieldKey("id"), FlushRows: 1})
	if err != nil {
		return err
	}
	done := w.Done()
	var todo []sample.Prompt
	for _, p := range prompts {
		if !done[p.ID] {
			todo = append(todo, p)
		}
	}

	job := &sampleJob{enc: enc, cfg: cfg, n: *n, maxNew: flags.maxNewTokens(gen), stops: flags.stops,
		stopIDs: stopTokens(model, tok, dir), maxPositions: model.Config.MaxPositions, decode: func(ids []int) string { return tok.Decode(ids, true) }}
	encoded, err := job.encodeAll(todo, *skipLong)
	if err != nil {
		w.Close()
		return err
	}

	bar := progress.New(errOutput(ctx), 0, progress.Options{Label: "sample", Unit: "tokens"})
	var tokens atomic.Int64
	opts := flags.options()
	opts.OnToken = func(_, _ int, _ string, _ bool) {
		tokens.Add(1)
		bar.Add(1)
	}

	// Prompts run in chunks of about 16 batches of requests, because each
	// request keeps its sampler's vocabulary-sized scratch buffers until
	// the chunk ends.
	perChunk := max(1, 16**flags.batchSize / *n)
	start := time.Now()
	for first := 0; first < len(encoded) && err == nil; first += perChunk {
		chunk := encoded[first:min(first+perChunk, len(encoded))]
		writer := newOrderedWriter(job, chunk, w)
		opts.OnResult = writer.add
		_, err = generate.Run(ctx, model, job.requests(chunk), opts)
		if err == nil {
			err = writer.err
		}
	}
	bar.Finish()
	if closeErr := w.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return cacheAdvice(err)
	}

	elapsed := time.Since(start)
	fmt.Fprintf(errOutput(ctx), "sampled %d responses to %d prompts (%d already in %s, %d too long): %d tokens in %.1fs (%.1f tokens/s)\n",
		len(encoded)**n, len(encoded), len(prompts)-len(todo), *out, len(todo)-len(encoded), tokens.Load(), elapsed.Seconds(), float64(tokens.Load())/elapsed.Seconds())
	return nil
}

// sampleIdentity holds what decides the samples: the model's files, the
// rendered chat template and the decoding settings. A file sampled with
// another identity is not resumed.
func sampleIdentity(dir string, enc *promptEncoder, cfg sample.Config, n, maxNew int, stops []string) (map[string]any, error) {
	files, err := fingerprintFiles(dir)
	if err != nil {
		return nil, err
	}
	probe, err := enc.Render("{probe}")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"model_files":    files,
		"chat_template":  hashText(probe),
		"sampling":       fmt.Sprintf("%+v", cfg),
		"n":              n,
		"max_new_tokens": maxNew,
		"stop":           stops,
	}, nil
}

// checkResumable rejects an existing output file whose records were made
// with another seed or number of responses, or from another prompt than
// the one --data now has under the same id, which a resume would mix with
// the new ones.
func checkResumable(path string, seed uint64, n int, prompts []sample.Prompt) error {
	byID := make(map[string]sample.Prompt, len(prompts))
	for _, p := range prompts {
		byID[p.ID] = p
	}
	err := resume.Scan(path, func(lineNo int, line []byte) error {
		var rec sampleRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		if rec.Seed != seed || len(rec.Responses) != n {
			return fmt.Errorf("%s:%d has %d responses with seed %d, but this run asks for --n %d and --seed %d: give the same values to resume, or another --out",
				path, lineNo, len(rec.Responses), rec.Seed, n, seed)
		}
		p, ok := byID[rec.ID]
		if !ok {
			return nil
		}
		text, messages := recordPrompt(p)
		if rec.Prompt != text || !slices.Equal(rec.Messages, messages) {
			return fmt.Errorf("%s:%d: id %q was sampled from another prompt than --data has now under that id; give another --out", path, lineNo, rec.ID)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// sampleJob contains what every request of a sample run shares.
type sampleJob struct {
	enc     *promptEncoder
	cfg     sample.Config
	n       int
	maxNew  int
	stops   []string
	stopIDs []int
	decode  func([]int) string

	maxPositions int
}

// encodedPrompt is a prompt with its model input tokens.
type encodedPrompt struct {
	sample.Prompt
	ids []int
}

// encodeAll encodes the prompts. A prompt that fills the model's context
// is an error, or with skipLong is left out.
func (j *sampleJob) encodeAll(prompts []sample.Prompt, skipLong bool) ([]encodedPrompt, error) {
	var kept []encodedPrompt
	for _, p := range prompts {
		ids, err := j.encode(p)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("prompt %s (%s) encodes to no tokens and the tokenizer adds no BOS", p.ID, p.Where)
		}
		if len(ids) >= j.maxPositions {
			if skipLong {
				slog.Warn("skip prompt longer than the context", "id", p.ID, "where", p.Where, "tokens", len(ids), "max_position_embeddings", j.maxPositions)
				continue
			}
			return nil, fmt.Errorf("prompt %s (%s) has %d tokens, which leaves no room to generate within max_position_embeddings %d: give --skip-long to leave such prompts out",
				p.ID, p.Where, len(ids), j.maxPositions)
		}
		kept = append(kept, encodedPrompt{Prompt: p, ids: ids})
	}
	return kept, nil
}

// requests returns n requests per prompt, prompt by prompt.
func (j *sampleJob) requests(prompts []encodedPrompt) []generate.Request {
	reqs := make([]generate.Request, 0, len(prompts)*j.n)
	for _, p := range prompts {
		for response := range j.n {
			reqs = append(reqs, generate.Request{
				Prompt:       p.ids,
				MaxNewTokens: j.maxNew,
				Sampler:      sample.New(j.cfg, sequenceIndex(p.ID, response)),
				Stopper:      sample.NewStopper(j.stopIDs, j.stops, j.maxNew, j.decode),
			})
		}
	}
	return reqs
}

// encode renders a prompt through the chat template, or takes its text as
// it is with --chat-template none, and tokenizes it.
func (j *sampleJob) encode(p sample.Prompt) ([]int, error) {
	if p.Messages == nil {
		text, err := j.enc.Text(p.Text)
		if err != nil {
			return nil, fmt.Errorf("prompt %s (%s): %w", p.ID, p.Where, err)
		}
		return j.enc.Encode(text), nil
	}

	if j.enc.template == nil {
		return nil, fmt.Errorf("prompt %s (%s) is a list of chat messages, which needs a chat template: give --chat-template auto with a model that has one, or a template FILE",
			p.ID, p.Where)
	}
	messages := make([]chat.Message, len(p.Messages))
	for i, m := range p.Messages {
		messages[i] = chat.Message{Role: m.Role, Content: j.enc.tok.EscapeSpecial(m.Content)}
	}
	text, err := j.enc.template.Render(messages, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		return nil, fmt.Errorf("prompt %s (%s): %w", p.ID, p.Where, err)
	}
	return j.enc.Encode(text), nil
}

// orderedWriter collects the responses of each prompt and writes a prompt's
// record once all its responses and those of every earlier prompt are done,
// so the file lists prompts in input order whatever the batch size.
type orderedWriter struct {
	job       *sampleJob
	prompts   []encodedPrompt
	w         *resume.Writer
	responses [][]sampleResponse
	pending   []int // responses still running per prompt
	next      int   // first prompt not written yet
	err       error
}

func newOrderedWriter(job *sampleJob, prompts []encodedPrompt, w *resume.Writer) *orderedWriter {
	o := &orderedWriter{job: job, prompts: prompts, w: w,
		responses: make([][]sampleResponse, len(prompts)), pending: make([]int, len(prompts))}
	for i := range prompts {
		o.responses[i] = make([]sampleResponse, job.n)
		o.pending[i] = job.n
	}
	return o
}

// add stores the result of request index and writes every prompt that is
// now complete.
func (o *orderedWriter) add(index int, r generate.Result) {
	prompt, response := index/o.job.n, index%o.job.n
	o.responses[prompt][response] = sampleResponse{Text: r.Text, FinishReason: r.FinishReason, Tokens: len(r.Tokens)}
	o.pending[prompt]--

	for o.next < len(o.prompts) && o.pending[o.next] == 0 && o.err == nil {
		p := o.prompts[o.next]
		text, messages := recordPrompt(p.Prompt)
		rec := sampleRecord{ID: p.ID, Prompt: text, Messages: messages, Category: p.Category,
			Responses: o.responses[o.next], PromptTokens: len(p.ids), Seed: o.job.cfg.Seed}
		if err := o.w.Write(rec); err != nil {
			o.err = fmt.Errorf("write %s: %w", o.w.Path(), err)
		}
		o.responses[o.next] = nil
		o.next++
	}
}

// recordPrompt returns the prompt text and messages a record stores for p:
// its text, or for a chat prompt its last user turn and the messages.
func recordPrompt(p sample.Prompt) (string, []sample.Message) {
	if p.Text != "" {
		return p.Text, p.Messages
	}
	return lastUserMessage(p.Messages), p.Messages
}

// lastUserMessage returns the content of the last user turn of a chat
// prompt, or "" when it has none.
func lastUserMessage(messages []sample.Message) string {
	for i := len(messages) - 1; i >= 0; i-- {
		if messages[i].Role == "user" {
			return messages[i].Content
		}
	}
	return ""
}
