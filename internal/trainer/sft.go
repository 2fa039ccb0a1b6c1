package trainer

import (
	"context"
	"fmt"
	"math/rand/v2"

	"ipo/internal/llama"
	"ipo/internal/peft"
	"ipo/internal/train"
)

// EncodedSFT is a tokenized supervised example.
type EncodedSFT struct {
	ID         string
	Prompt     []int
	Completion []int // EOS included
}

// SFTExamples tokenizes every supervised row.
func (e *Encoder) SFTExamples(rows []SFTRow) ([]EncodedSFT, error) {
	out := make([]EncodedSFT, len(rows))
	for i, r := range rows {
		p, c, err := e.SFT(r)
		if err != nil {
			return nil, err
		}
		out[i] = EncodedSFT{ID: r.ID, Prompt: p, Completion: c}
	}
	return out, nil
}

// Sequence returns the training sequence of x: prompt and completion cut
// to maxLength tokens from the start, as TRL's SFTTrainer truncates, with
// targets on the completion tokens, or on every token but the first when
// completionOnly is false.
func (x EncodedSFT) Sequence(maxLength int, completionOnly bool) (llama.TrainSequence, error) {
	tokens := append(append(make([]int, 0, len(x.Prompt)+len(x.Completion)), x.Prompt...), x.Completion...)
	if maxLength > 0 && len(tokens) > maxLength {
		tokens = tokens[:maxLength]
	}
	mask, err := train.CompletionMask(min(len(x.Prompt), len(tokens)), len(tokens), completionOnly)
	if err != nil {
		return llama.TrainSequence{}, fmt.Errorf("%s: %w", x.ID, err)
	}
	if len(mask) > 0 {
		mask[0] = false
	}
	return llama.TrainSequence{Tokens: tokens, Targets: mask}, nil
}

// SFT is one supervised fine-tuning run. The loss is the mean negative
// log-likelihood over the counted tokens of each optimizer step.
type SFT struct {
	Model    *llama.Model
	Config   train.SFTConfig
	Examples []EncodedSFT
	Options
}

type sftRun struct {
	model             *llama.Model
	seqs              []llama.TrainSequence
	ids               []string
	trainIdx, evalIdx []int
	evalBatch         int
}

// Run trains like DPO.Run.
func (s *SFT) Run(ctx context.Context) (*Result, error) {
	cfg := s.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &sftRun{model: s.Model, evalBatch: max(cfg.PerDeviceEvalBatchSize, 1)}
	for _, x := range s.Examples {
		seq, err := x.Sequence(cfg.MaxLength, cfg.CompletionOnlyLoss)
		if err != nil {
			return nil, err
		}
		r.seqs = append(r.seqs, seq)
		r.ids = append(r.ids, x.ID)
	}
	var err error
	if r.trainIdx, r.evalIdx, err = train.SplitEval(len(r.seqs), cfg.EvalSplit, cfg.Seed); err != nil {
		return nil, err
	}
	return newLoop(s.Model, cfg.TrainingArguments, cfg, s.Options, len(r.trainIdx), r).run(ctx)
}

func countTargets(q llama.TrainSequence) int {
	n := 0
	for _, t := range q.Targets {
		if t {
			n++
		}
	}
	return n
}

func (r *sftRun) step(ad *peft.Adapter, rng *rand.Rand, batches [][]int, step int, grads map[peft.Key]*peft.Lora) (map[string]float64, int, error) {
	counted := 0
	for _, b := range batches {
		for _, k := range b {
			counted += countTargets(r.seqs[r.trainIdx[k]])
		}
	}
	if counted == 0 {
		return nil, 0, fmt.Errorf("step %d: no completion tokens to train on; raise max_length or check the data", step)
	}
	var nll float64
	tokens := 0
	for _, b := range batches {
		seqs := make([]llama.TrainSequence, len(b))
		ids := make([]string, len(b))
		for j, k := range b {
			seqs[j], ids[j] = r.seqs[r.trainIdx[k]], r.ids[r.trainIdx[k]]
			tokens += len(seqs[j].Tokens)
		}
		lossGrad := func(logps []float64) ([]float64, error) {
			g := make([]float64, len(logps))
			sum := 0.0
			for i, lp := range logps {
				sum -= lp
				g[i] = -1 / float64(counted)
			}
			if err := train.CheckFinite(train.MetricLoss, sum, step, ids); err != nil {
				return nil, err
			}
			nll += sum
			return g, nil
		}
		if _, err := r.model.SequenceLogProbGrad(ad, seqs, dropoutRNG(ad, rng), lossGrad, grads); err != nil {
			return nil, 0, err
		}
	}
	return map[string]float64{train.MetricLoss: nll / float64(counted), "num_tokens": float64(counted)}, tokens, nil
}

func (r *sftRun) batchIDs(batches [][]int) []string {
	var ids []string
	for _, b := range batches {
		for _, k := range b {
			ids = append(ids, r.ids[r.trainIdx[k]])
		}
	}
	return ids
}

func (r *sftRun) eval(ad *peft.Adapter) (map[string]float64, error) {
	if len(r.evalIdx) == 0 {
		return nil, nil
	}
	var nll float64
	counted := 0
	for i := 0; i < len(r.evalIdx); i += r.evalBatch {
		var seqs []llama.TrainSequence
		for _, k := range r.evalIdx[i:min(i+r.evalBatch, len(r.evalIdx))] {
			seqs = append(seqs, r.seqs[k])
			counted += countTargets(r.seqs[k])
		}
		pass, err := r.model.TrainForward(ad, seqs, nil)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		for _, lp := range pass.LogProbs() {
			nll -= lp
		}
	}
	if counted == 0 {
		return map[string]float64{train.MetricLoss: 0}, nil
	}
	return map[string]float64{train.MetricLoss: nll / float64(counted)}, nil
}
