package trainer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/train"
)

// DPO is one DPO run: a model, its configuration and the tokenized pairs.
// The pairs are split into training and evaluation sets by eval_split and
// seed. The reference log-probs of all of them are computed once with the
// adapter off and cached in the output folder.
type DPO struct {
	Model  *llama.Model
	Config train.DPOConfig
	Pairs  []EncodedPair
	// RefKey identifies everything the reference log-probs depend on
	// besides the tokens (the base model and the data file), so that a
	// cache made for other inputs is recomputed.
	RefKey string
	Options
}

type dpoRun struct {
	model             *llama.Model
	loss              train.DPOLoss
	lim               Limits
	trainIdx, evalIdx []int
	seqs              [][2]llama.TrainSequence
	ids               []string
	ref               []train.RefLogps
	evalBatch         int
}

// Run trains until the configured number of steps, Options.StopAfter or a
// cancelled ctx, whichever comes first, saving checkpoints along the way.
// A NaN or infinite loss or gradient norm stops the run with a
// *train.NonFiniteError naming the step and the batch's examples; the
// checkpoints already written stay.
func (d *DPO) Run(ctx context.Context) (*Result, error) {
	cfg := d.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &dpoRun{
		model:     d.Model,
		loss:      cfg.Loss(),
		lim:       Limits{MaxPrompt: cfg.MaxPromptLength, MaxCompletion: cfg.MaxCompletionLength, MaxLength: cfg.MaxLength, KeepStart: cfg.TruncationMode == "keep_start"},
		evalBatch: cfg.PerDeviceEvalBatchSize,
	}
	for _, p := range d.Pairs {
		c, rj := p.Sequences(r.lim)
		r.seqs = append(r.seqs, [2]llama.TrainSequence{c, rj})
		r.ids = append(r.ids, p.ID)
	}
	var err error
	r.trainIdx, r.evalIdx, err = train.SplitEval(len(d.Pairs), cfg.EvalSplit, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if d.OutDir == "" {
		return nil, fmt.Errorf("no output folder; give --out DIR")
	}
	if err := os.MkdirAll(d.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	if err := r.reference(filepath.Join(d.OutDir, train.RefCacheFile), d.refKey()); err != nil {
		return nil, err
	}

	return newLoop(d.Model, cfg.TrainingArguments, cfg, d.Options, len(r.trainIdx), r).run(ctx)
}

// refKey extends RefKey with the settings the reference log-probs depend on.
func (d *DPO) refKey() string {
	c := d.Config
	return fmt.Sprintf("%s|prompt=%d|completion=%d|max=%d|%s|normalized=%t|n=%d", d.RefKey, c.MaxPromptLength, c.MaxCompletionLength, c.MaxLength, c.TruncationMode, c.Loss().LengthNormalized(), len(d.Pairs))
}

// reference fills r.ref from the cache at path, computing what is missing
// with the adapter off.
func (r *dpoRun) reference(path, key string) error {
	cache, err := train.LoadRefCache(path, key)
	if err != nil {
		return err
	}
	missing := map[string]bool{}
	for _, id := range cache.Missing(r.ids) {
		missing[id] = true
	}
	var todo []int
	for i, id := range r.ids {
		if missing[id] {
			todo = append(todo, i)
		}
	}
	for len(todo) > 0 {
		n := min(len(todo), max(r.evalBatch, 1))
		logps, err := r.logps(nil, todo[:n])
		if err != nil {
			return fmt.Errorf("reference log-probs: %w", err)
		}
		for j, i := range todo[:n] {
			if err := train.CheckFinite("reference log-prob", logps[2*j]+logps[2*j+1], 0, []string{r.ids[i]}); err != nil {
				return err
			}
			cache.Logps[r.ids[i]] = train.RefLogps{Chosen: logps[2*j], Rejected: logps[2*j+1]}
		}
		todo = todo[n:]
	}
	if len(missing) > 0 {
		if err := cache.Save(path); err != nil {
			return err
		}
	}
	r.ref = make([]train.RefLogps, len(r.ids))
	for i, id := range r.ids {
		r.ref[i] = cache.Logps[id]
	}
	return nil
}

// batch returns the chosen and rejected sequences of examples idx,
// interleaved.
func (r *dpoRun) batch(idx []int) ([]llama.TrainSequence, int) {
	seqs := make([]llama.TrainSequence, 0, 2*len(idx))
	tokens := 0
	for _, i := range idx {
		seqs = append(seqs, r.seqs[i][0], r.seqs[i][1])
		tokens += len(r.seqs[i][0].Tokens) + len(r.seqs[i][1].Tokens)
	}
	return seqs, tokens
}

// scales returns, per sequence, the factor from the summed log-prob to the
// one the loss reads: 1, or 1/tokens for a length-normalised loss.
func (r *dpoRun) scales(seqs []llama.TrainSequence) []float64 {
	s := make([]float64, len(seqs))
	for i, q := range seqs {
		s[i] = 1
		if !r.loss.LengthNormalized() {
			continue
		}
		n := 0
		for _, t := range q.Targets {
			if t {
				n++
			}
		}
		if n > 0 {
			s[i] = 1 / float64(n)
		}
	}
	return s
}

// logps returns the sequence log-probs of examples idx under ad (nil: the
// base model) without dropout, scaled as the loss reads them.
func (r *dpoRun) logps(ad *peft.Adapter, idx []int) ([]float64, error) {
	seqs, _ := r.batch(idx)
	pass, err := r.model.TrainForward(ad, seqs, nil)
	if err != nil {
		return nil, err
	}
	out := append([]float64(nil), pass.LogProbs()...)
	for i, s := range r.scales(seqs) {
		out[i] *= s
	}
	return out, nil
}

func (r *dpoRun) pairs(idx []int, logps []float64) []train.Pair {
	ps := make([]train.Pair, len(idx))
	for j, i := range idx {
		ps[j] = train.Pair{
			PolicyChosen: logps[2*j], PolicyRejected: logps[2*j+1],
			ReferenceChosen: r.ref[i].Chosen, ReferenceRejected: r.ref[i].Rejected,
		}
	}
	return ps
}

func (r *dpoRun) step(ad *peft.Adapter, rng *rand.Rand, batches [][]int, step int, grads map[peft.Key]*peft.Lora) (map[string]float64, int, error) {
	total := 0
	for _, b := range batches {
		total += len(b)
	}
	metrics := map[string]float64{}
	tokens := 0
	for _, b := range batches {
		idx := make([]int, len(b))
		ids := make([]string, len(b))
		for j, k := range b {
			idx[j] = r.trainIdx[k]
			ids[j] = r.ids[idx[j]]
		}
		seqs, n := r.batch(idx)
		tokens += n
		scales := r.scales(seqs)
		w := train.MicroBatchWeight(len(b), total)

		lossGrad := func(sums []float64) ([]float64, error) {
			logps := make([]float64, len(sums))
			for i := range sums {
				logps[i] = sums[i] * scales[i]
			}
			res := r.loss.Batch(r.pairs(idx, logps))
			if err := train.CheckFinite(train.MetricLoss, res.Metrics.Loss, step, ids); err != nil {
				return nil, err
			}
			for k, v := range res.Metrics.Values() {
				metrics[k] += w * v
			}
			g := make([]float64, len(sums))
			for j, p := range res.Pairs {
				g[2*j] = p.GradChosen * w * scales[2*j]
				g[2*j+1] = p.GradRejected * w * scales[2*j+1]
			}
			return g, nil
		}
		if _, err := r.model.SequenceLogProbGrad(ad, seqs, dropoutRNG(ad, rng), lossGrad, grads); err != nil {
			return nil, 0, err
		}
	}
	return metrics, tokens, nil
}

// dropoutRNG returns rng when the adapter uses dropout, so that a run
// without dropout draws no random numbers.
func dropoutRNG(ad *peft.Adapter, rng *rand.Rand) *rand.Rand {
	if ad.Config.LoraDropout > 0 {
		return rng
	}
	return nil
}

func (r *dpoRun) batchIDs(batches [][]int) []string {
	var ids []string
	for _, b := range batches {
		for _, k := range b {
			ids = append(ids, r.ids[r.trainIdx[k]])
		}
	}
	return ids
}

func (r *dpoRun) eval(ad *peft.Adapter) (map[string]float64, error) {
	if len(r.evalIdx) == 0 {
		return nil, nil
	}
	var all []train.Pair
	bs := max(r.evalBatch, 1)
	for i := 0; i < len(r.evalIdx); i += bs {
		idx := r.evalIdx[i:min(i+bs, len(r.evalIdx))]
		logps, err := r.logps(ad, idx)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		all = append(all, r.pairs(idx, logps)...)
	}
	return r.loss.Batch(all).Metrics.Values(), nil
}
