// Package evals runs the downstream evaluations of a trained model. MMLU
// is k-shot multiple choice scored by log-likelihood, in the prompt format
// of the original MMLU harness by Hendrycks et al.
// GSM8K is greedy generation scored by final-number exact match. Pair
// accuracy is how often a judge scores the chosen response of a held-out
// pair above the rejected one.
package evals

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Letters are the MMLU answer letters, in choice order.
var Letters = [4]string{"A", "B", "C", "D"}

// MMLUItem is one multiple-choice question.
type MMLUItem struct {
	Subject  string
	Question string
	Choices  [4]string
	// Answer is the index of the correct choice, 0 to 3.
	Answer int
}

// ReadMMLU reads one MMLU CSV file with the header question, choice0,
// choice1, choice2, choice3, answer (an index 0-3, or a letter A-D).
func ReadMMLU(path, subject string) ([]MMLUItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	want := []string{"question", "choice0", "choice1", "choice2", "choice3", "answer"}
	if strings.Join(header, ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("%s: header is %q, want %q", path, strings.Join(header, ","), strings.Join(want, ","))
	}

	var items []MMLUItem
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		answer, err := parseAnswer(rec[5])
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", path, line-1, err)
		}
		items = append(items, MMLUItem{Subject: subject, Question: rec[0], Choices: [4]string{rec[1], rec[2], rec[3], rec[4]}, Answer: answer})
	}
	return items, nil
}

func parseAnswer(s string) (int, error) {
	s = strings.TrimSpace(s)
	for i, l := range Letters {
		if s == l {
			return i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 3 {
		return 0, fmt.Errorf("answer %q is not 0-3 or A-D", s)
	}
	return n, nil
}

// MMLUSubjects returns the sorted subjects that have a file in dir/test,
// named SUBJECT_test.csv.
func MMLUSubjects(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "test", "*_test.csv"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no SUBJECT_test.csv files in %s", filepath.Join(dir, "test"))
	}
	subjects := make([]string, len(paths))
	for i, p := range paths {
		subjects[i] = strings.TrimSuffix(filepath.Base(p), "_test.csv")
	}
	sort.Strings(subjects)
	return subjects, nil
}

// ReadMMLUSubject reads the dev (few-shot) and test questions of one
// subject from dir/dev/SUBJECT_dev.csv and dir/test/SUBJECT_test.csv.
func ReadMMLUSubject(dir, subject string) (dev, test []MMLUItem, err error) {
	dev, err = ReadMMLU(filepath.Join(dir, "dev", subject+"_dev.csv"), subject)
	if err != nil {
		return nil, nil, err
	}
	test, err = ReadMMLU(filepath.Join(dir, "test", subject+"_test.csv"), subject)
	return dev, test, err
}

// formatSubject turns "high_school_chemistry" into "high school chemistry".
func formatSubject(subject string) string {
	return strings.Join(strings.Split(subject, "_"), " ")
}

// formatQuestion writes a question, its four lettered choices and
// "Answer:", followed by " LETTER\n\n" for a solved example.
func formatQuestion(b *strings.Builder, it MMLUItem, solved bool) {
	b.WriteString(it.Question)
	for i, c := range it.Choices {
		fmt.Fprintf(b, "\n%s. %s", Letters[i], c)
	}
	b.WriteString("\nAnswer:")
	if solved {
		fmt.Fprintf(b, " %s\n\n", Letters[it.Answer])
	}
}

// MMLUPrompt returns the prompt of the original MMLU harness: the subject
// header, the solved shots, then the question ending in "Answer:". The
// answer is then read as the continuation " A" to " D".
func MMLUPrompt(subject string, shots []MMLUItem, question MMLUItem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The following are multiple choice questions (with answers) about %s.\n\n", formatSubject(subject))
	for _, s := range shots {
		formatQuestion(&b, s, true)
	}
	formatQuestion(&b, question, false)
	return b.String()
}

// ChoiceScorer returns, for each prompt, the log-likelihood of each
// continuation after it: out[i][j] is log P(continuations[j] | prompts[i]).
type ChoiceScorer interface {
	LogLikelihoods(ctx context.Context, prompts []string, continuations []string) ([][]float64, error)
}

// MMLUOptions sets an MMLU run.
type MMLUOptions struct {
	// Shots is how many dev examples precede each question (5 in the
	// original harness).
	Shots int
	// Fits, when set, reports whether a prompt fits the model's context.
	// A prompt that does not fit loses shots from the end, one at a time,
	// as in the original harness. A question that does not fit even with
	// zero shots is skipped and counted in TooLong.
	Fits func(prompt string) bool
	// Limit, when positive, evaluates only the first Limit questions of
	// each subject.
	Limit int
}

// SubjectResult is the accuracy on one subject.
type SubjectResult struct {
	Subject  string  `json:"subject"`
	Correct  int     `json:"correct"`
	Total    int     `json:"total"`
	Accuracy float64 `json:"accuracy"`
	// FewerShots counts questions that got fewer shots than requested so
	// that the prompt fit the context.
	FewerShots int `json:"fewer_shots"`
	// TooLong counts questions left out because they do not fit the
	// context even without shots; Total does not include them.
	TooLong int `json:"too_long"`
}

// MMLUResult is the accuracy per subject and overall.
type MMLUResult struct {
	Subjects []SubjectResult `json:"subjects"`
	Correct  int             `json:"correct"`
	Total    int             `json:"total"`
	// Accuracy is over all questions (micro average), as the original
	// harness reports it; MacroAccuracy is the mean of subject accuracies.
	Accuracy      float64 `json:"accuracy"`
	MacroAccuracy float64 `json:"macro_accuracy"`
	Shots         int     `json:"shots"`
}

// continuations are the answers compared after "Answer:".
var continuations = []string{" A", " B", " C", " D"}

// EvalMMLUSubject scores the questions of one subject: the predicted
// choice is the letter with the highest log-likelihood, the first on a
// tie.
func EvalMMLUSubject(ctx context.Context, scorer ChoiceScorer, subject string, dev, test []MMLUItem, opts MMLUOptions) (SubjectResult, error) {
	res := SubjectResult{Subject: subject}
	if opts.Shots > len(dev) {
		return res, fmt.Errorf("subject %s: %d shots requested but the dev split has %d questions; lower --shots", subject, opts.Shots, len(dev))
	}
	if opts.Limit > 0 && opts.Limit < len(test) {
		test = test[:opts.Limit]
	}

	var prompts []string
	var kept []MMLUItem
	for _, q := range test {
		k := opts.Shots
		prompt := MMLUPrompt(subject, dev[:k], q)
		for opts.Fits != nil && !opts.Fits(prompt) && k > 0 {
			k--
			prompt = MMLUPrompt(subject, dev[:k], q)
		}
		if opts.Fits != nil && !opts.Fits(prompt) {
			res.TooLong++
			continue
		}
		if k < opts.Shots {
			res.FewerShots++
		}
		prompts = append(prompts, prompt)
		kept = append(kept, q)
	}
	test = kept
	if len(test) == 0 {
		return res, nil
	}

	scores, err := scorer.LogLikelihoods(ctx, prompts, continuations)
	if err != nil {
		return res, fmt.Errorf("subject %s: %w", subject, err)
	}
	for i, q := range test {
		if argmax(scores[i]) == q.Answer {
			res.Correct++
		}
	}
	res.Total = len(test)
	res.Accuracy = ratio(res.Correct, res.Total)
	return res, nil
}

// Summarize adds up subject results into an MMLUResult.
func Summarize(subjects []SubjectResult, shots int) MMLUResult {
	res := MMLUResult{Subjects: subjects, Shots: shots}
	for _, s := range subjects {
		res.Correct += s.Correct
		res.Total += s.Total
		res.MacroAccuracy += s.Accuracy
	}
	res.Accuracy = ratio(res.Correct, res.Total)
	if len(subjects) > 0 {
		res.MacroAccuracy /= float64(len(subjects))
	}
	return res
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}
