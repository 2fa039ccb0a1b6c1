package bench

import (
	"fmt"
	"math"
	"strconv"
)

// Side is the chosen or the rejected side of a pair.
type Side string

// The two sides of a pair.
const (
	SideChosen   Side = "chosen"
	SideRejected Side = "rejected"
)

// ResponseKey names one response to score. Subdomain and Style are empty
// and 0 for RewardBench.
type ResponseKey struct {
	Subdomain string
	ID        string
	Side      Side
	Style     int
}

// String formats the key as "id" for a row of LoadScoreInput, "id/side"
// for RewardBench and "subdomain/id/side/style" for RM-Bench, a form fit
// for resume files. It does not escape "/" inside ids, so keys are for
// lookup, not for parsing back.
func (k ResponseKey) String() string {
	switch {
	case k.Side == "":
		return k.ID
	case k.Subdomain == "":
		return k.ID + "/" + string(k.Side)
	}
	return k.Subdomain + "/" + k.ID + "/" + string(k.Side) + "/" + strconv.Itoa(k.Style)
}

// Response is one (prompt, response) pair to score, with the category that
// selects its judge question: the subset for RewardBench, the sub-domain
// for RM-Bench.
type Response struct {
	Key      ResponseKey
	Category string
	Prompt   string
	Text     string
}

// Responses lists both responses of every pair, chosen first.
func (d *RewardBenchData) Responses() []Response {
	out := make([]Response, 0, 2*len(d.Pairs))
	for _, p := range d.Pairs {
		out = append(out,
			Response{ResponseKey{ID: p.ID, Side: SideChosen}, p.Subset, p.Prompt, p.Chosen},
			Response{ResponseKey{ID: p.ID, Side: SideRejected}, p.Subset, p.Prompt, p.Rejected},
		)
	}
	return out
}

// Scores pairs up per-response scores. A missing score is an error that
// names the response.
func (d *RewardBenchData) Scores(scores map[ResponseKey]float64) ([]PairScore, error) {
	out := make([]PairScore, 0, len(d.Pairs))
	for _, p := range d.Pairs {
		ps := PairScore{ID: p.ID, Subset: p.Subset}
		var err error
		if ps.Chosen, err = lookupScore(scores, ResponseKey{ID: p.ID, Side: SideChosen}); err != nil {
			return nil, err
		}
		if ps.Rejected, err = lookupScore(scores, ResponseKey{ID: p.ID, Side: SideRejected}); err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

// Responses lists the six responses of every prompt: chosen in style
// order, then rejected.
func (d *RMBenchData) Responses() []Response {
	out := make([]Response, 0, 6*len(d.Prompts))
	for _, p := range d.Prompts {
		for i, text := range p.Chosen {
			out = append(out, Response{ResponseKey{p.Subdomain, p.ID, SideChosen, i}, p.Subdomain, p.Prompt, text})
		}
		for i, text := range p.Rejected {
			out = append(out, Response{ResponseKey{p.Subdomain, p.ID, SideRejected, i}, p.Subdomain, p.Prompt, text})
		}
	}
	return out
}

// Scores groups per-response scores by prompt. A missing score is an error
// that names the response.
func (d *RMBenchData) Scores(scores map[ResponseKey]float64) ([]StyledScore, error) {
	out := make([]StyledScore, 0, len(d.Prompts))
	for _, p := range d.Prompts {
		s := StyledScore{ID: p.ID, Subdomain: p.Subdomain}
		for i := range 3 {
			var err error
			if s.Chosen[i], err = lookupScore(scores, ResponseKey{p.Subdomain, p.ID, SideChosen, i}); err != nil {
				return nil, err
			}
			if s.Rejected[i], err = lookupScore(scores, ResponseKey{p.Subdomain, p.ID, SideRejected, i}); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func lookupScore(scores map[ResponseKey]float64, key ResponseKey) (float64, error) {
	v, ok := scores[key]
	if !ok {
		return 0, fmt.Errorf("no score for response %s", key)
	}
	return v, nil
}

// JSONFloat is a float64 that encodes NaN and infinities as null, which
// encoding/json cannot encode otherwise.
type JSONFloat float64

// MarshalJSON implements json.Marshaler.
func (f JSONFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}
