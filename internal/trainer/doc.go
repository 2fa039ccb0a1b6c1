// Package trainer runs DPO and SFT fine-tuning of a Llama-family model with
// a LoRA adapter. It reads TRL-style rows and tokenizes them with the
// model's chat template. For DPO it computes the reference log-probs once
// with the adapter off. The optimizer loop has micro-batches, gradient
// accumulation, an eval split, logging, checkpoints and bit-exact resume.
//
// A DPO run reads:
//
//	rows, err := trainer.ReadPreferences("pairs.jsonl")
//	enc := &trainer.Encoder{Tok: tok, Template: tmpl}
//	pairs, err := enc.Pairs(rows)
//	job := &trainer.DPO{Model: m, Config: cfg, Pairs: pairs, RefKey: modelDir + "|pairs.jsonl",
//		Options: trainer.Options{OutDir: "out", Console: os.Stderr}}
//	res, err := job.Run(ctx)
//
// The output folder holds checkpoint-<step> folders (PEFT adapter, AdamW
// moments, RNG and data position), log.jsonl, the reference log-prob cache
// and, once the run is complete, the final adapter.
package trainer
