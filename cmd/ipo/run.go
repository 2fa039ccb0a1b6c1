package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ipo/internal/pipeline"
	"ipo/internal/sample"
	"ipo/internal/trainer"

	"gopkg.in/yaml.v3"
)

func init() {
	commands["run"] = command{summary: "run the self-improvement loop: sample, label, train, merge and evaluate, K times", run: runRun, resumable: true}
}

// stageLogFile is the log of a stage's command output, in its folder.
const stageLogFile = "stage.log"

// runHooks lets tests observe a run; the zero value observes nothing.
type runHooks struct {
	// stageOutput receives every write to a stage's log, with the stage named
	// as iter-K/STAGE.
	stageOutput func(stage string, p []byte)
}

func runRun(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("run", "--config FILE [--runs DIR]")
	configPath := fs.String("config", "", "run configuration, YAML or JSON (required); docs/run-example.yaml shows the keys")
	runsDir := fs.String("runs", "", "folder of the run folders, overriding the config key runs_dir")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := requireFlag(fs, "config", *configPath); err != nil {
		return err
	}
	cfg, err := pipeline.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	if *runsDir != "" {
		cfg.RunsDir = *runsDir
	}
	return runLoop(ctx, cfg, stdout, runHooks{})
}

// loop is one `ipo run`.
type loop struct {
	cfg    *pipeline.Config
	dir    string
	stdout io.Writer
	hooks  runHooks
	report pipeline.Report
}

// runLoop runs every stage of cfg's run that is not done yet and writes
// the report.
func runLoop(ctx context.Context, cfg *pipeline.Config, stdout io.Writer, hooks runHooks) error {
	start := time.Now()
	l := &loop{cfg: cfg, dir: cfg.RunDir(), stdout: stdout, hooks: hooks,
		report: pipeline.Report{Name: cfg.Name, Model: cfg.Model}}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}

	prompts, err := sample.ReadPrompts(cfg.Prompts.Data, cfg.Prompts.Field, cfg.Prompts.IDField)
	if err != nil {
		return fmt.Errorf("prompts.data: %w", err)
	}
	pools, err := pipeline.SplitPools(len(prompts), cfg.Iterations, cfg.Prompts.PerIteration, cfg.Seed)
	if err != nil {
		return err
	}
	modelDir, err := resolveModel(ctx, cfg.Model, modelFiles)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	model := pipeline.Input{Name: "model", Path: cfg.Model, File: modelDir}

	base := pipeline.IterationReport{Iteration: 0, Stages: map[string]*pipeline.Manifest{}}
	if err := l.evaluate(ctx, &base, model, nil); err != nil {
		return err
	}
	l.report.Iterations = append(l.report.Iterations, base)

	var modelStage *pipeline.Manifest
	for k := 1; k <= cfg.Iterations; k++ {
		it, merged, err := l.iteration(ctx, k, prompts, pools[k-1], model, modelStage)
		if err != nil {
			return err
		}
		l.report.Iterations = append(l.report.Iterations, *it)
		model, modelStage = merged, it.Stages["merge"]
	}

	if err := pipeline.WriteReport(l.dir, &l.report); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(stdout, "run %s: %d iterations done; report in %s (%.1fs)\n", cfg.Name, cfg.Iterations,
		filepath.Join(l.dir, pipeline.ReportFile), time.Since(start).Seconds())
	return nil
}

// iteration runs the stages of iteration k on model and returns their
// manifests and the merged model, the next iteration's input.
func (l *loop) iteration(ctx context.Context, k int, prompts []sample.Prompt, pool []int, model pipeline.Input, modelStage *pipeline.Manifest) (*pipeline.IterationReport, pipeline.Input, error) {
	cfg := l.cfg
	it := &pipeline.IterationReport{Iteration: k, Stages: map[string]*pipeline.Manifest{}}
	iterDir := filepath.Join(l.dir, fmt.Sprintf("iter-%d", k))
	stageDir := func(name string) string { return filepath.Join(iterDir, name) }
	local := func(name, file string) pipeline.Input {
		rel, _ := filepath.Rel(l.dir, file)
		return pipeline.Input{Name: name, Path: filepath.ToSlash(rel), File: file}
	}
	after := func(ms ...*pipeline.Manifest) []*pipeline.Manifest {
		var out []*pipeline.Manifest
		for _, m := range ms {
			if m != nil {
				out = append(out, m)
			}
		}
		return out
	}
	do := func(s *pipeline.Stage) (*pipeline.Manifest, error) {
		s.Iteration, s.Dir = k, stageDir(s.Name)
		m, err := l.do(ctx, s)
		if err == nil {
			it.Stages[s.Name] = m
		}
		return m, err
	}

	poolFile := filepath.Join(stageDir("prompts"), "pool.jsonl")
	promptsStage, err := do(&pipeline.Stage{Name: "prompts",
		Inputs: []pipeline.Input{{Name: "prompts", Path: cfg.Prompts.Data, File: cfg.Prompts.Data}},
		// Pool k does not depend on the number of iterations, so raising
		// iterations keeps the finished ones.
		Settings: map[string]any{"seed": cfg.Seed, "per_iteration": cfg.Prompts.PerIteration, "field": cfg.Prompts.Field, "id_field": cfg.Prompts.IDField},
		Run:      func(context.Context) error { return writePool(poolFile, prompts, pool) },
		Outputs:  []string{"pool.jsonl"},
		Count:    func() (map[string]float64, error) { return map[string]float64{"prompts": float64(len(pool))}, nil },
	})
	if err != nil {
		return nil, model, err
	}

	samples := filepath.Join(stageDir("sample"), "samples.jsonl")
	sampleStage, err := do(&pipeline.Stage{Name: "sample",
		Inputs:   []pipeline.Input{model, local("prompts", poolFile)},
		Settings: map[string]any{"sample": cfg.Sample, "seed": cfg.Seed + uint64(k)},
		After:    after(modelStage, promptsStage),
		Run: func(ctx context.Context) error {
			args := []string{"--model", model.File, "--data", poolFile, "--id-field", "id", "--out", samples,
				"--n", strconv.Itoa(cfg.Sample.N), "--seed", strconv.FormatUint(cfg.Seed+uint64(k), 10)}
			args = appendIf(args, cfg.Sample.MaxNewTokens > 0, "--max-new-tokens", strconv.Itoa(cfg.Sample.MaxNewTokens))
			if cfg.Sample.Temperature != nil {
				args = append(args, "--temperature", strconv.FormatFloat(*cfg.Sample.Temperature, 'g', -1, 64))
			}
			args = appendIf(args, cfg.Sample.ChatTemplate != "", "--chat-template", cfg.Sample.ChatTemplate)
			args = appendIf(args, cfg.Sample.SkipLong, "--skip-long")
			return l.invoke(ctx, k, "sample", "sample", append(args, cfg.Sample.Args...))
		},
		Outputs: []string{"samples.jsonl"},
		Count:   func() (map[string]float64, error) { return countSamples(samples) },
	})
	if err != nil {
		return nil, model, err
	}

	pairs := filepath.Join(stageDir("label"), "pairs.jsonl")
	labelStage, err := do(&pipeline.Stage{Name: "label",
		Inputs:   []pipeline.Input{model, local("samples", samples)},
		Settings: cfg.Label,
		After:    after(sampleStage),
		Run: func(ctx context.Context) error {
			args := []string{"--model", model.File, "--samples", samples, "--out", pairs,
				"--min-margin", strconv.FormatFloat(cfg.Label.MinMargin, 'g', -1, 64)}
			args = appendIf(args, cfg.Label.KeepTruncated, "--keep-truncated")
			args = appendIf(args, cfg.Label.ChatTemplate != "", "--chat-template", cfg.Label.ChatTemplate)
			return l.invoke(ctx, k, "label", "label", append(args, cfg.Label.Args...))
		},
		Outputs: []string{"pairs.jsonl"},
		// Each pair's judge description names the model's path, which
		// differs between run folders.
		OutputIgnoreFields: []string{"judge"},
		Count:              func() (map[string]float64, error) { return countLabel(filepath.Join(stageDir("label"), stageLogFile)) },
	})
	if err != nil {
		return nil, model, err
	}
	if labelStage.Counts["kept"] == 0 {
		return nil, model, fmt.Errorf("iteration %d: label kept no pairs (see %s); sample more prompts or responses, or relax label.min_margin or label.keep_truncated",
			k, filepath.Join(stageDir("label"), stageLogFile))
	}

	pairsInput := local("pairs", pairs)
	pairsInput.IgnoreFields = []string{"judge"}
	trainDir := stageDir("train")
	trainStage, err := do(&pipeline.Stage{Name: "train",
		Inputs:   []pipeline.Input{model, pairsInput},
		Settings: map[string]any{"train": cfg.Train, "seed": cfg.Seed},
		After:    after(labelStage),
		Run: func(ctx context.Context) error {
			trainConfig := filepath.Join(trainDir, "train-config.yaml")
			settings := map[string]any{"seed": cfg.Seed}
			for key, v := range cfg.Train.Config {
				settings[key] = v
			}
			data, err := yaml.Marshal(settings)
			if err != nil {
				return fmt.Errorf("train.config: %w", err)
			}
			if err := pipeline.WriteFileAtomic(trainConfig, data); err != nil {
				return err
			}
			args := []string{"--model", model.File, "--data", pairs, "--out", trainDir, "--config", trainConfig, "--resume"}
			args = appendIf(args, cfg.Train.ChatTemplate != "", "--chat-template", cfg.Train.ChatTemplate)
			return l.invoke(ctx, k, "train", "train dpo", append(args, cfg.Train.Args...))
		},
		// The adapter's config names the base model's path, which differs
		// between run folders, so only its weights are recorded.
		Outputs: []string{"adapter_model.safetensors"},
		Count: func() (map[string]float64, error) {
			steps, counts, err := pipeline.ReadTrainLog(filepath.Join(trainDir, trainer.LogFile))
			it.Steps = steps
			return counts, err
		},
	})
	if err != nil {
		return nil, model, err
	}
	if it.Steps == nil {
		it.Steps, _, _ = pipeline.ReadTrainLog(filepath.Join(trainDir, trainer.LogFile))
	}

	mergedDir := filepath.Join(stageDir("merge"), "model")
	mergeStage, err := do(&pipeline.Stage{Name: "merge",
		Inputs: []pipeline.Input{model, local("adapter", filepath.Join(trainDir, "adapter_model.safetensors"))},
		After:  after(trainStage),
		Run: func(ctx context.Context) error {
			return l.invoke(ctx, k, "merge", "merge", []string{"--model", model.File, "--adapter", trainDir, "--out", mergedDir})
		},
		Outputs: []string{"model"},
	})
	if err != nil {
		return nil, model, err
	}

	merged := local("model", mergedDir)
	if err := l.evaluate(ctx, it, merged, mergeStage); err != nil {
		return nil, model, err
	}
	return it, merged, nil
}

// do runs one stage and prints what happened to it.
func (l *loop) do(ctx context.Context, s *pipeline.Stage) (*pipeline.Manifest, error) {
	name := fmt.Sprintf("iter-%d/%s", s.Iteration, s.Name)
	m, result, err := pipeline.Do(ctx, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w (log in %s)", name, err, filepath.Join(s.Dir, stageLogFile))
	}
	switch result {
	case pipeline.Skipped:
		fmt.Fprintf(l.stdout, "%-24s done before, skipped\n", name)
	case pipeline.Resumed:
		fmt.Fprintf(l.stdout, "%-24s resumed and finished in %.1fs\n", name, m.WallSeconds)
	default:
		fmt.Fprintf(l.stdout, "%-24s finished in %.1fs\n", name, m.WallSeconds)
	}
	return m, nil
}

// invoke runs the ipo command name in process with args; its standard
// output and its progress and log lines go to the stage's log file.
func (l *loop) invoke(ctx context.Context, k int, stage, name string, args []string) error {
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("ipo %s is not built into this binary", name)
	}
	dir := filepath.Join(l.dir, fmt.Sprintf("iter-%d", k), stage)
	f, err := os.OpenFile(filepath.Join(dir, stageLogFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "$ ipo %s %s\n", name, strings.Join(args, " "))

	var w io.Writer = f
	if l.hooks.stageOutput != nil {
		w = hookWriter{w: f, stage: fmt.Sprintf("iter-%d/%s", k, stage), hook: l.hooks.stageOutput}
	}
	// Stages run one at a time, so the default logger can point at the
	// stage's log while it runs.
	logger := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: logLevel()})))
	err = cmd.run(context.WithValue(ctx, stderrKey{}, w), args, w)
	slog.SetDefault(logger)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("ipo %s: %w", name, err)
	}
	return err
}

// hookWriter passes every write on to a runHooks.stageOutput.
type hookWriter struct {
	w     io.Writer
	stage string
	hook  func(string, []byte)
}

func (h hookWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.hook(h.stage, p[:n])
	return n, err
}

// isHubDatasetID reports whether data names no local path but has the
// form owner/name of a Hugging Face Hub dataset, which the bench commands
// download themselves.
func isHubDatasetID(data string) bool {
	if _, err := os.Stat(data); err == nil {
		return false
	}
	owner, name, ok := strings.Cut(data, "/")
	return ok && owner != "" && name != "" && !strings.Contains(name, "/") && !strings.HasPrefix(owner, ".")
}

func appendIf(args []string, cond bool, more ...string) []string {
	if cond {
		return append(args, more...)
	}
	return args
}

// writePool writes the prompts of one pool as JSON Lines with id, prompt
// or messages, and category, the fields ipo sample reads.
func writePool(path string, prompts []sample.Prompt, pool []int) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, i := range pool {
		p := prompts[i]
		row := map[string]any{"id": p.ID}
		if len(p.Messages) > 0 {
			row["messages"] = p.Messages
		} else {
			row["prompt"] = p.Text
		}
		if p.Category != "" {
			row["category"] = p.Category
		}
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return pipeline.WriteFileAtomic(path, []byte(b.String()))
}

// countSamples counts the prompts, responses and generated tokens of an
// ipo sample output.
func countSamples(path string) (map[string]float64, error) {
	records, err := readSampleFile(path, 0)
	if err != nil {
		return nil, err
	}
	counts := map[string]float64{"prompts": float64(len(records))}
	for _, r := range records {
		counts["responses"] += float64(len(r.Responses))
		for _, resp := range r.Responses {
			counts["tokens"] += float64(resp.Tokens)
		}
	}
	return counts, nil
}

// labelSummary matches the closing line of ipo label, such as "kept 3,
// dropped 2 (too_few 0, empty 1, ...)".
var labelSummary = regexp.MustCompile(`kept (\d+), dropped (\d+) \(([^)]*)\)`)

// countLabel reads the pairs kept and dropped by reason from the last
// summary line in the label stage's log.
func countLabel(logPath string) (map[string]float64, error) {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return nil, err
	}
	all := labelSummary.FindAllSubmatch(data, -1)
	if len(all) == 0 {
		return nil, fmt.Errorf("%s has no summary line of ipo label (kept N, dropped M (...))", logPath)
	}
	last := all[len(all)-1]
	kept, _ := strconv.Atoi(string(last[1]))
	dropped, _ := strconv.Atoi(string(last[2]))
	counts := map[string]float64{"kept": float64(kept), "dropped": float64(dropped)}
	for _, part := range strings.Split(string(last[3]), ", ") {
		reason, n, ok := strings.Cut(part, " ")
		v, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s: drop count %q is not REASON N", logPath, part)
		}
		counts["dropped_"+reason] = float64(v)
	}
	return counts, nil
}

// evaluate runs the configured evaluations of model in iteration it.
func (l *loop) evaluate(ctx context.Context, it *pipeline.IterationReport, model pipeline.Input, modelStage *pipeline.Manifest) error {
	cfg := l.cfg.Eval
	iterDir := filepath.Join(l.dir, fmt.Sprintf("iter-%d", it.Iteration))
	var after []*pipeline.Manifest
	if modelStage != nil {
		after = append(after, modelStage)
	}

	type evalStage struct {
		name, command, data string
		settings            any
		args                func(dir, data string) []string
		// subset is the row limit applied by writing the first rows into
		// the stage folder, for commands without --limit.
		subset int
		score  func(summary map[string]any) map[string]float64
	}
	stages := []evalStage{
		{name: "bench-rewardbench", command: "bench rewardbench", data: cfg.RewardBench.Data, settings: cfg.RewardBench, subset: cfg.RewardBench.Limit,
			args: func(dir, data string) []string {
				args := []string{"--data", data, "--out", dir}
				return append(appendIf(args, cfg.RewardBench.ChatTemplate != "", "--chat-template", cfg.RewardBench.ChatTemplate), cfg.RewardBench.Args...)
			}, score: pipeline.BenchCounts("pairs")},
		{name: "bench-rmbench", command: "bench rmbench", data: cfg.RMBench.Data, settings: cfg.RMBench, subset: cfg.RMBench.Limit,
			args: func(dir, data string) []string {
				args := []string{"--data", data, "--out", dir}
				return append(appendIf(args, cfg.RMBench.ChatTemplate != "", "--chat-template", cfg.RMBench.ChatTemplate), cfg.RMBench.Args...)
			}, score: pipeline.BenchCounts("prompts")},
		{name: "eval-mmlu", command: "eval mmlu", data: cfg.MMLU.Data, settings: cfg.MMLU,
			args: func(dir, data string) []string {
				args := []string{"--data", data, "--out", filepath.Join(dir, "summary.json"), "--limit", strconv.Itoa(cfg.MMLU.Limit)}
				args = appendIf(args, len(cfg.MMLU.Subjects) > 0, "--subjects", strings.Join(cfg.MMLU.Subjects, ","))
				if cfg.MMLU.Shots != nil {
					args = append(args, "--shots", strconv.Itoa(*cfg.MMLU.Shots))
				}
				return append(args, cfg.MMLU.Args...)
			}, score: pipeline.EvalCounts},
		{name: "eval-gsm8k", command: "eval gsm8k", data: cfg.GSM8K.Data, settings: cfg.GSM8K,
			args: func(dir, data string) []string {
				args := []string{"--data", data, "--out", filepath.Join(dir, "summary.json"), "--limit", strconv.Itoa(cfg.GSM8K.Limit), "--shots", strconv.Itoa(cfg.GSM8K.Shots)}
				args = appendIf(args, cfg.GSM8K.MaxNewTokens > 0, "--max-new-tokens", strconv.Itoa(cfg.GSM8K.MaxNewTokens))
				return append(args, cfg.GSM8K.Args...)
			}, score: pipeline.EvalCounts},
		{name: "eval-pairs", command: "eval pairs", data: cfg.Pairs.Data, settings: cfg.Pairs,
			args: func(dir, data string) []string {
				args := []string{"--data", data, "--out", filepath.Join(dir, "summary.json"), "--limit", strconv.Itoa(cfg.Pairs.Limit)}
				return append(appendIf(args, cfg.Pairs.ChatTemplate != "", "--chat-template", cfg.Pairs.ChatTemplate), cfg.Pairs.Args...)
			}, score: pipeline.EvalCounts},
	}

	for _, e := range stages {
		if e.data == "" {
			continue
		}
		dir := filepath.Join(iterDir, e.name)
		data := pipeline.Input{Name: "data", Path: e.data, File: e.data}
		if isHubDatasetID(e.data) {
			data.File = ""
		}
		s := &pipeline.Stage{Name: e.name, Iteration: it.Iteration, Dir: dir,
			Inputs:   []pipeline.Input{model, data},
			Settings: e.settings,
			After:    after,
			Run: func(ctx context.Context) error {
				data := e.data
				if e.subset > 0 {
					var err error
					if data, err = pipeline.WriteSubset(e.data, dir, e.subset); err != nil {
						return err
					}
				}
				args := append([]string{"--model", model.File}, e.args(dir, data)...)
				return l.invoke(ctx, it.Iteration, e.name, e.command, args)
			},
			Count: func() (map[string]float64, error) {
				var summary map[string]any
				data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
				if err != nil {
					return nil, err
				}
				if err := json.Unmarshal(data, &summary); err != nil {
					return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "summary.json"), err)
				}
				return e.score(summary), nil
			},
		}
		m, err := l.do(ctx, s)
		if err != nil {
			return err
		}
		it.Stages[e.name] = m
	}
	return nil
}
