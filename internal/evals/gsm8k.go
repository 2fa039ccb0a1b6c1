package evals

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"ipo/internal/dataset"
)

// GSM8KItem is one grade-school math problem.
type GSM8KItem struct {
	Question string
	// Solution is the worked answer ending in "#### N".
	Solution string
	// Target is the final number N of the solution.
	Target string
}

// ReadGSM8K reads GSM8K problems (fields question and answer, the answer
// ending in "#### N") from a JSON, JSON Lines or Parquet file.
func ReadGSM8K(path string) ([]GSM8KItem, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}
	items := make([]GSM8KItem, len(rows))
	for i, row := range rows {
		q, qok := row.Fields["question"].(string)
		a, aok := row.Fields["answer"].(string)
		if !qok || !aok {
			return nil, fmt.Errorf("%s: missing string field question or answer", row.Where())
		}
		target, ok := finalAfterHashes(a)
		if !ok {
			return nil, fmt.Errorf("%s: field answer has no final number after \"####\"; GSM8K solutions end in \"#### N\"", row.Where())
		}
		items[i] = GSM8KItem{Question: q, Solution: a, Target: target}
	}
	return items, nil
}

// GSM8KPrompt returns the prompt for a question: each shot as
// "Question: Q\nAnswer: SOLUTION\n\n", then "Question: Q\nAnswer:".
func GSM8KPrompt(shots []GSM8KItem, question string) string {
	var b strings.Builder
	for _, s := range shots {
		fmt.Fprintf(&b, "Question: %s\nAnswer: %s\n\n", s.Question, s.Solution)
	}
	fmt.Fprintf(&b, "Question: %s\nAnswer:", question)
	return b.String()
}

// GSM8KStops are the stop strings of a generation: the start of the next
// question, which a few-shot prompt invites.
var GSM8KStops = []string{"Question:"}

// number matches a number as written in answers: an optional sign or $,
// digits with optional thousands commas, and optional decimals.
var number = regexp.MustCompile(`[-+]?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\$?\.\d+`)

var (
	hashes   = regexp.MustCompile(`####\s*`)
	answerIs = regexp.MustCompile(`(?i)the (?:final )?answer is[:\s]*`)
)

// ExtractAnswer returns the final number of a generated answer, normalized
// by NormalizeNumber. It takes the first number after the last "####",
// else the first number after the last "The answer is", else the last
// number in the text. ok is false when the text has no number.
func ExtractAnswer(text string) (answer string, ok bool) {
	if n, ok := finalAfterHashes(text); ok {
		return n, true
	}
	if locs := answerIs.FindAllStringIndex(text, -1); locs != nil {
		if all := numbers(text[locs[len(locs)-1][1]:]); len(all) > 0 {
			return NormalizeNumber(all[0])
		}
	}
	all := numbers(text)
	if len(all) == 0 {
		return "", false
	}
	return NormalizeNumber(all[len(all)-1])
}

// numbers returns the numbers in text. A sign right after a letter or
// digit is a hyphen, as in "10-15" or "x-5", so it is left out.
func numbers(text string) []string {
	var out []string
	for _, loc := range number.FindAllStringIndex(text, -1) {
		n := text[loc[0]:loc[1]]
		if (n[0] == '-' || n[0] == '+') && loc[0] > 0 && isWordByte(text[loc[0]-1]) {
			n = n[1:]
		}
		out = append(out, n)
	}
	return out
}

func isWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func finalAfterHashes(text string) (string, bool) {
	locs := hashes.FindAllStringIndex(text, -1)
	if locs == nil {
		return "", false
	}
	all := numbers(text[locs[len(locs)-1][1]:])
	if len(all) == 0 {
		return "", false
	}
	return NormalizeNumber(all[0])
}

// NormalizeNumber returns the canonical form of a number: no $, commas,
// plus sign or trailing zeros after the decimal point, so "$1,000.50" is
// "1000.5", "18.00" is "18" and "-0" is "0". ok is false for text that is
// not a number.
func NormalizeNumber(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer("$", "", ",", "", " ", "").Replace(s)
	s = strings.TrimSuffix(s, ".")
	s = strings.TrimPrefix(s, "+")
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, "/eE") {
		return "", false
	}
	if r.IsInt() {
		return r.Num().String(), true
	}
	// A finite decimal: print with enough digits and trim the zeros.
	out := r.FloatString(len(s))
	out = strings.TrimRight(out, "0")
	return strings.TrimSuffix(out, "."), true
}

// Generator returns greedy completions of prompts, stopped at any of the
// stop strings (which the completions leave out).
type Generator interface {
	Generate(ctx context.Context, prompts []string, stops []string) ([]string, error)
}

// GSM8KOptions sets a GSM8K run.
type GSM8KOptions struct {
	// Shots are the solved examples before each question; none gives a
	// zero-shot prompt.
	Shots []GSM8KItem
	// Limit, when positive, evaluates only the first Limit problems.
	Limit int
}

// GSM8KAnswer is the outcome of one problem.
type GSM8KAnswer struct {
	Index      int    `json:"index"`
	Target     string `json:"target"`
	Extracted  string `json:"extracted"`
	Correct    bool   `json:"correct"`
	Completion string `json:"completion"`
}

// GSM8KResult is the exact-match accuracy.
type GSM8KResult struct {
	Correct  int           `json:"correct"`
	Total    int           `json:"total"`
	Accuracy float64       `json:"accuracy"`
	Shots    int           `json:"shots"`
	Answers  []GSM8KAnswer `json:"answers"`
}

// EvalGSM8K generates an answer to each problem and counts those whose
// extracted final number equals the target.
func EvalGSM8K(ctx context.Context, gen Generator, items []GSM8KItem, opts GSM8KOptions) (GSM8KResult, error) {
	if opts.Limit > 0 && opts.Limit < len(items) {
		items = items[:opts.Limit]
	}
	prompts := make([]string, len(items))
	for i, it := range items {
		prompts[i] = GSM8KPrompt(opts.Shots, it.Question)
	}
	completions, err := gen.Generate(ctx, prompts, GSM8KStops)
	if err != nil {
		return GSM8KResult{}, err
	}

	res := GSM8KResult{Total: len(items), Shots: len(opts.Shots)}
	for i, it := range items {
		got, _ := ExtractAnswer(completions[i])
		a := GSM8KAnswer{Index: i, Target: it.Target, Extracted: got, Correct: got != "" && got == it.Target, Completion: completions[i]}
		if a.Correct {
			res.Correct++
		}
		res.Answers = append(res.Answers, a)
	}
	res.Accuracy = ratio(res.Correct, res.Total)
	return res, nil
}
