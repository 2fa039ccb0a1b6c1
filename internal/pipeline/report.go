package pipeline

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// The report's file names inside the run folder.
const (
	ReportFile  = "report.md"
	LossPlot    = "loss.png"
	MarginsPlot = "margins.png"
	ScoresPlot  = "scores.png"
)

// Evaluation names one evaluation stage and the report's column for it.
type Evaluation struct {
	Stage, Title string
}

// Evaluations are the evaluation stages in report order; each stage's
// manifest holds its headline figure as the count "score".
var Evaluations = []Evaluation{
	{"bench-rewardbench", "RewardBench"},
	{"bench-rmbench", "RM-Bench"},
	{"eval-mmlu", "MMLU"},
	{"eval-gsm8k", "GSM8K"},
	{"eval-pairs", "held-out pairs"},
}

// Report is the content of a run report: the run and its iterations.
type Report struct {
	Name  string
	Model string
	// Iterations holds iteration 0, the base model's evaluations, then
	// iterations 1..K.
	Iterations []IterationReport
}

// IterationReport holds the manifests of one iteration's stages and its
// training curve.
type IterationReport struct {
	Iteration int
	// Stages maps a stage name to its manifest; unfinished stages are
	// absent.
	Stages map[string]*Manifest
	Steps  []TrainStep
}

// TrainStep is one logged training step.
type TrainStep struct {
	Step                   int
	Loss, Margin, Accuracy float64
}

// score returns an evaluation's score in this iteration.
func (it *IterationReport) score(stage string) (float64, bool) {
	m, ok := it.Stages[stage]
	if !ok {
		return 0, false
	}
	v, ok := m.Counts["score"]
	return v, ok
}

// WriteReport writes report.md and its three PNG plots into dir.
func WriteReport(dir string, r *Report) error {
	evals := r.evaluations()
	var b strings.Builder
	fmt.Fprintf(&b, "# Run %s\n\n", r.Name)
	fmt.Fprintf(&b, "Base model `%s`, %d iterations of sample, label, train (DPO with LoRA), merge and evaluate. "+
		"Iteration 0 is the base model. Every figure comes from the stage manifests in iter-k/STAGE/manifest.json.\n\n", r.Model, len(r.Iterations)-1)

	b.WriteString("## Scores per iteration\n\n")
	if len(evals) == 0 {
		b.WriteString("No evaluation is configured.\n\n")
	} else {
		b.WriteString("| iteration |")
		for _, e := range evals {
			fmt.Fprintf(&b, " %s |", e.Title)
		}
		b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(evals)) + "\n")
		for i := range r.Iterations {
			fmt.Fprintf(&b, "| %d |", r.Iterations[i].Iteration)
			for _, e := range evals {
				fmt.Fprintf(&b, " %s |", r.scoreCell(i, e.Stage))
			}
			b.WriteString("\n")
		}
		b.WriteString("\nA delta is the change from the previous iteration.\n\n")
		scores, legend := r.scoreSeries(evals)
		if err := writePlot(dir, ScoresPlot, scores); err != nil {
			return err
		}
		fmt.Fprintf(&b, "![scores per iteration](%s)\n\n%s\n\n", ScoresPlot, plotCaption("iteration", "score", scores, legend))
	}

	for _, it := range r.Iterations[1:] {
		writeIteration(&b, r, it.Iteration, evals)
	}

	b.WriteString("## Training curves\n\n")
	loss, margins, legend := r.trainSeries()
	if err := writePlot(dir, LossPlot, loss); err != nil {
		return err
	}
	if err := writePlot(dir, MarginsPlot, margins); err != nil {
		return err
	}
	fmt.Fprintf(&b, "DPO loss per logged step:\n\n![loss per step](%s)\n\n%s\n\n", LossPlot, plotCaption("step", "loss", loss, legend))
	fmt.Fprintf(&b, "Reward margin (chosen minus rejected reward) per logged step:\n\n![reward margins per step](%s)\n\n%s\n",
		MarginsPlot, plotCaption("step", "margin", margins, legend))

	return WriteFileAtomic(filepath.Join(dir, ReportFile), []byte(b.String()))
}

// writeIteration writes the table of iteration k.
func writeIteration(b *strings.Builder, r *Report, k int, evals []Evaluation) {
	it := &r.Iterations[k]
	fmt.Fprintf(b, "## Iteration %d\n\n| stage | figure | value |\n| --- | --- | --- |\n", k)
	row := func(stage, figure, value string) {
		fmt.Fprintf(b, "| %s | %s | %s |\n", stage, figure, value)
	}
	missing := func(stage string) bool {
		if _, ok := it.Stages[stage]; !ok {
			row(stage, "not finished", "")
			return true
		}
		return false
	}

	if !missing("sample") {
		c := it.Stages["sample"].Counts
		row("sample", "prompts", formatCount(c["prompts"]))
		row("sample", "responses", formatCount(c["responses"]))
		row("sample", "generated tokens", formatCount(c["tokens"]))
	}
	if !missing("label") {
		c := it.Stages["label"].Counts
		row("label", "pairs kept", formatCount(c["kept"]))
		var reasons []string
		for key := range c {
			if strings.HasPrefix(key, "dropped_") {
				reasons = append(reasons, key)
			}
		}
		sort.Strings(reasons)
		for _, key := range reasons {
			row("label", "dropped: "+strings.TrimPrefix(key, "dropped_"), formatCount(c[key]))
		}
	}
	if !missing("train") {
		c := it.Stages["train"].Counts
		for _, key := range sortedKeys(c) {
			row("train", key, formatValue(c[key]))
		}
	}
	for _, e := range evals {
		if _, ok := it.Stages[e.Stage]; !ok {
			row(e.Title, "not finished", "")
			continue
		}
		row(e.Title, "score (delta)", r.scoreCell(k, e.Stage))
	}
	b.WriteString("\n")
}

// evaluations returns the evaluations that some iteration finished.
func (r *Report) evaluations() []Evaluation {
	var out []Evaluation
	for _, e := range Evaluations {
		for i := range r.Iterations {
			if _, ok := r.Iterations[i].score(e.Stage); ok {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// scoreCell formats the score of iteration i with its delta from i-1.
func (r *Report) scoreCell(i int, stage string) string {
	v, ok := r.Iterations[i].score(stage)
	if !ok {
		return "–"
	}
	if i == 0 {
		return fmt.Sprintf("%.4f", v)
	}
	prev, ok := r.Iterations[i-1].score(stage)
	if !ok {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4f (%+.4f)", v, v-prev)
}

func (r *Report) scoreSeries(evals []Evaluation) ([]Series, []string) {
	var series []Series
	var names []string
	for _, e := range evals {
		s := Series{Name: e.Title}
		for i := range r.Iterations {
			if v, ok := r.Iterations[i].score(e.Stage); ok {
				s.X = append(s.X, float64(r.Iterations[i].Iteration))
				s.Y = append(s.Y, v)
			}
		}
		series = append(series, s)
		names = append(names, e.Title)
	}
	return series, names
}

func (r *Report) trainSeries() (loss, margins []Series, names []string) {
	for _, it := range r.Iterations[1:] {
		name := fmt.Sprintf("iteration %d", it.Iteration)
		l, m := Series{Name: name}, Series{Name: name}
		for _, s := range it.Steps {
			l.X, l.Y = append(l.X, float64(s.Step)), append(l.Y, s.Loss)
			m.X, m.Y = append(m.X, float64(s.Step)), append(m.Y, s.Margin)
		}
		loss, margins = append(loss, l), append(margins, m)
		names = append(names, name)
	}
	return loss, margins, names
}

func writePlot(dir, name string, series []Series) error {
	data, err := LinePlot(series)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, name), data)
}

// plotCaption names each line's colour and the ranges of both axes, since
// the plot itself only prints the numbers at its corners.
func plotCaption(xName, yName string, series []Series, names []string) string {
	xmin, xmax, ymin, ymax := Bounds(series)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = Palette[i%len(Palette)].Name + ": " + n
	}
	return fmt.Sprintf("Lines: %s. Axes: %s from %s to %s, %s from %s to %s.",
		strings.Join(parts, "; "), xName, label(xmin), label(xmax), yName, label(ymin), label(ymax))
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func formatCount(v float64) string { return fmt.Sprintf("%.0f", v) }

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}
