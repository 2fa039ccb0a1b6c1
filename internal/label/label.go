// Package label turns N scored responses per prompt into one preference
// pair (highest score chosen, lowest rejected) and counts why prompts were
// dropped. The scores come from any Judge, so the yes/no classifier of
// ipo judge and other judges plug into the same labeller.
package label

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Item is one response to judge, with its prompt and category.
type Item struct {
	Category string
	Prompt   string
	Response string
}

// Judge scores responses, higher meaning better. Score returns one finite
// score per item, in item order.
type Judge interface {
	Score(ctx context.Context, items []Item) ([]float64, error)
	// Describe returns the judge as recorded in each pair, such as its
	// kind, model and prompt set.
	Describe() map[string]any
}

// Response is one sampled response with its judge score.
type Response struct {
	Text string
	// FinishReason is "length" when max_new_tokens cut the response.
	FinishReason string
	Tokens       int
	Score        float64
}

// Reason is the drop reason of a prompt without a pair. The empty Reason
// means the pair is kept.
type Reason string

// The drop reasons, in the order Select checks them.
const (
	Kept Reason = ""
	// TooFew means fewer than two responses.
	TooFew Reason = "too_few"
	// Empty means the chosen or the rejected text is empty or only white
	// space.
	Empty Reason = "empty"
	// Truncated means max_new_tokens cut the chosen or the rejected
	// response.
	Truncated Reason = "truncated"
	// Identical means the chosen and rejected texts are equal.
	Identical Reason = "identical"
	// Margin means the score margin is zero or below Options.MinMargin.
	Margin Reason = "margin"
)

// Reasons lists the drop reasons in the order Select checks them.
var Reasons = []Reason{TooFew, Empty, Truncated, Identical, Margin}

// Options sets which pairs Select keeps.
type Options struct {
	// MinMargin is the smallest chosen-minus-rejected score kept. A pair
	// with margin 0 is always dropped, because it orders nothing.
	MinMargin float64
	// MaxNewTokens, when positive, also counts a response of at least
	// this many tokens as truncated, for files whose finish_reason is
	// missing.
	MaxNewTokens int
	// KeepTruncated keeps pairs whose chosen or rejected response was cut
	// by max_new_tokens.
	KeepTruncated bool
}

// Choice is the outcome of Select: the indexes of the chosen and rejected
// responses and, when the prompt is dropped, the reason.
type Choice struct {
	Chosen, Rejected int
	Reason           Reason
}

// Margin returns the chosen score minus the rejected score.
func (c Choice) Margin(responses []Response) float64 {
	return responses[c.Chosen].Score - responses[c.Rejected].Score
}

// Select picks the chosen and rejected responses of one prompt. Chosen is
// the first response with the highest score and rejected the last with
// the lowest, so that ties break by sampling order and a prompt whose
// scores are all equal still names two different responses. The pair is
// then checked against each reason of Reasons in turn, and the first that
// applies is returned. Select rejects a NaN or infinite score.
func Select(responses []Response, opts Options) (Choice, error) {
	for i, r := range responses {
		if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
			return Choice{}, fmt.Errorf("response %d has score %v; scores must be finite", i, r.Score)
		}
	}
	if len(responses) < 2 {
		return Choice{Reason: TooFew}, nil
	}

	c := Choice{}
	for i, r := range responses {
		if r.Score > responses[c.Chosen].Score {
			c.Chosen = i
		}
		if r.Score <= responses[c.Rejected].Score {
			c.Rejected = i
		}
	}
	if c.Chosen == c.Rejected {
		// Every score is equal: the first and the last response.
		c.Chosen, c.Rejected = 0, len(responses)-1
	}

	chosen, rejected := responses[c.Chosen], responses[c.Rejected]
	switch {
	case strings.TrimSpace(chosen.Text) == "" || strings.TrimSpace(rejected.Text) == "":
		c.Reason = Empty
	case !opts.KeepTruncated && (truncated(chosen, opts) || truncated(rejected, opts)):
		c.Reason = Truncated
	case chosen.Text == rejected.Text:
		c.Reason = Identical
	case c.Margin(responses) <= 0 || c.Margin(responses) < opts.MinMargin:
		c.Reason = Margin
	}
	return c, nil
}

func truncated(r Response, opts Options) bool {
	return r.FinishReason == "length" || (opts.MaxNewTokens > 0 && r.Tokens >= opts.MaxNewTokens)
}

// Pair is one line of the output: a preference pair in the format of
// TRL's DPOTrainer (prompt, chosen, rejected as plain text), with the
// scores and the judge that made it.
type Pair struct {
	ID            string         `json:"id"`
	Prompt        string         `json:"prompt"`
	Chosen        string         `json:"chosen"`
	Rejected      string         `json:"rejected"`
	Category      string         `json:"category,omitempty"`
	ScoreChosen   float64        `json:"score_chosen"`
	ScoreRejected float64        `json:"score_rejected"`
	Margin        float64        `json:"margin"`
	Judge         map[string]any `json:"judge"`
}

// Counts is how many prompts were kept and dropped for each reason.
type Counts struct {
	Kept    int
	Dropped map[Reason]int
}

// Add counts one Select outcome.
func (c *Counts) Add(r Reason) {
	if r == Kept {
		c.Kept++
		return
	}
	if c.Dropped == nil {
		c.Dropped = map[Reason]int{}
	}
	c.Dropped[r]++
}

// String formats the counts as "kept 3, dropped 2 (empty 1, margin 1)",
// naming every reason in the order of Reasons.
func (c Counts) String() string {
	total := 0
	parts := make([]string, len(Reasons))
	for i, r := range Reasons {
		total += c.Dropped[r]
		parts[i] = fmt.Sprintf("%s %d", r, c.Dropped[r])
	}
	return fmt.Sprintf("kept %d, dropped %d (%s)", c.Kept, total, strings.Join(parts, ", "))
}
