package bench

import (
	"errors"
	"fmt"
	"math"
)

// Outcome is the result of comparing a chosen and a rejected score.
type Outcome int

// The outcomes of a comparison. Only Win counts as correct.
const (
	Loss    Outcome = iota // score(chosen) < score(rejected)
	Win                    // score(chosen) > score(rejected)
	Tie                    // equal scores
	Invalid                // a score is NaN
)

// String returns the outcome's name as written in per-example records.
func (o Outcome) String() string {
	switch o {
	case Win:
		return "win"
	case Tie:
		return "tie"
	case Invalid:
		return "invalid"
	}
	return "loss"
}

// Compare returns the outcome of a pair. Like the official comparison
// chosen > rejected, only Win counts as correct.
func Compare(chosen, rejected float64) Outcome {
	switch {
	case math.IsNaN(chosen) || math.IsNaN(rejected):
		return Invalid
	case chosen > rejected:
		return Win
	case chosen == rejected:
		return Tie
	}
	return Loss
}

// PairScore is the two scores of one RewardBench pair.
type PairScore struct {
	ID       string
	Subset   string
	Chosen   float64
	Rejected float64
}

// Counts tallies the outcomes of a group of pairs.
type Counts struct {
	Pairs   int `json:"pairs"`
	Wins    int `json:"wins"`
	Losses  int `json:"losses"`
	Ties    int `json:"ties"`
	Invalid int `json:"invalid"`
}

func (c *Counts) add(o Outcome) {
	c.Pairs++
	switch o {
	case Win:
		c.Wins++
	case Loss:
		c.Losses++
	case Tie:
		c.Ties++
	case Invalid:
		c.Invalid++
	}
}

// accuracy returns wins/pairs, or nil for no pairs.
func (c Counts) accuracy() *float64 {
	if c.Pairs == 0 {
		return nil
	}
	a := float64(c.Wins) / float64(c.Pairs)
	return &a
}

// SubsetResult is one subset's accuracy.
type SubsetResult struct {
	Name    string `json:"name"`
	Section string `json:"section"` // "" for a subset in no section
	Counts
	Accuracy float64 `json:"accuracy"`
	Expected int     `json:"expected_rows"` // rows in the full filtered split; 0 when unknown
	Weight   int     `json:"weight"`        // the official section weight; 0 when unknown
}

// SectionResult is one RewardBench section.
type SectionResult struct {
	Name    string   `json:"name"`
	Score   *float64 `json:"score"` // weighted mean over the subsets present; null when none is
	Pairs   int      `json:"pairs"`
	Present []string `json:"subsets_present"`
	Missing []string `json:"subsets_missing"`
}

// CategoryResult is one category of the IPO paper's view (arXiv 2502.16182,
// categories chat, code, math and safety): wins/pairs pooled over the rows
// present.
type CategoryResult struct {
	Name string `json:"name"`
	Counts
	Accuracy *float64 `json:"accuracy"`
}

// RewardBenchReport is the roll-up of a RewardBench run. See the package
// documentation for how each number is formed.
type RewardBenchReport struct {
	Schema string `json:"schema"`
	Counts
	Accuracy float64          `json:"accuracy"` // wins/pairs over every pair
	Score    *float64         `json:"score"`    // mean of the four sections; null unless all are present
	Partial  *float64         `json:"partial_score"`
	Sections []SectionResult  `json:"sections"`
	Subsets  []SubsetResult   `json:"subsets"`
	Paper    []CategoryResult `json:"paper_view"`

	// MissingSubsets lists official subsets with no rows.
	MissingSubsets []string `json:"missing_subsets"`

	// IncompleteSubsets lists official subsets with fewer rows than the
	// full filtered split has.
	IncompleteSubsets []string `json:"incomplete_subsets"`

	// UnknownSubsets lists subsets that are in no section.
	UnknownSubsets []string `json:"unknown_subsets"`

	Skipped []Skip `json:"skipped"`
}

// RewardBenchSchema identifies the summary JSON layout of RewardBenchReport.
const RewardBenchSchema = "ipo.rewardbench/v1"

// RollUpRewardBench computes per-subset, per-section, overall and paper-view
// results from pair scores. Skipped rows are carried into the report.
// An id that appears twice is an error.
func RollUpRewardBench(scores []PairScore, skipped []Skip) (*RewardBenchReport, error) {
	if len(scores) == 0 {
		return nil, errors.New("no scored RewardBench pairs to report")
	}

	report := &RewardBenchReport{
		Schema:            RewardBenchSchema,
		Skipped:           nonNil(skipped),
		MissingSubsets:    []string{},
		IncompleteSubsets: []string{},
		UnknownSubsets:    []string{},
	}

	counts := map[string]*Counts{}
	var order []string // unknown subsets in first-seen order
	seen := map[string]bool{}
	for _, s := range scores {
		if seen[s.ID] {
			return nil, fmt.Errorf("duplicate pair id %q in the scores; each pair must be scored once", s.ID)
		}
		seen[s.ID] = true

		name := s.Subset
		if known, ok := lookupSubset(name); ok {
			name = known.name
		}
		if counts[name] == nil {
			counts[name] = &Counts{}
			order = append(order, name)
		}
		o := Compare(s.Chosen, s.Rejected)
		counts[name].add(o)
		report.Counts.add(o)
	}
	report.Accuracy = float64(report.Wins) / float64(report.Pairs)

	report.Subsets = subsetResults(counts, order, report)
	report.Sections = sectionResults(counts, report)
	report.Score, report.Partial = overallScore(report.Sections)
	report.Paper = paperView(counts)
	return report, nil
}

// subsetResults lists the official subsets present in leaderboard order,
// then the unknown ones in the order first seen.
func subsetResults(counts map[string]*Counts, order []string, report *RewardBenchReport) []SubsetResult {
	var results []SubsetResult
	for _, s := range rewardBenchSubsets {
		c, ok := counts[s.name]
		if !ok {
			report.MissingSubsets = append(report.MissingSubsets, s.name)
			continue
		}
		if c.Pairs < s.rows {
			report.IncompleteSubsets = append(report.IncompleteSubsets, s.name)
		}
		results = append(results, SubsetResult{
			Name: s.name, Section: s.section, Counts: *c,
			Accuracy: *c.accuracy(), Expected: s.rows, Weight: s.weight,
		})
	}
	for _, name := range order {
		if _, known := lookupSubset(name); known {
			continue
		}
		c := counts[name]
		report.UnknownSubsets = append(report.UnknownSubsets, name)
		results = append(results, SubsetResult{Name: name, Counts: *c, Accuracy: *c.accuracy()})
	}
	return results
}

// sectionResults weighs each present subset's accuracy by its official
// EXAMPLE_COUNTS weight, as calculate_scores_per_section does.
func sectionResults(counts map[string]*Counts, report *RewardBenchReport) []SectionResult {
	results := make([]SectionResult, 0, len(Sections))
	for _, section := range Sections {
		r := SectionResult{Name: section, Present: []string{}, Missing: []string{}}
		var weighted, weights float64
		for _, s := range rewardBenchSubsets {
			if s.section != section {
				continue
			}
			c, ok := counts[s.name]
			if !ok {
				r.Missing = append(r.Missing, s.name)
				continue
			}
			r.Present = append(r.Present, s.name)
			r.Pairs += c.Pairs
			weighted += *c.accuracy() * float64(s.weight)
			weights += float64(s.weight)
		}
		if weights > 0 {
			score := weighted / weights
			r.Score = &score
		}
		results = append(results, r)
	}
	return results
}

// overallScore returns the mean of the four sections when all are present,
// and the mean of the sections present.
func overallScore(sections []SectionResult) (overall, partial *float64) {
	var sum float64
	n := 0
	for _, s := range sections {
		if s.Score != nil {
			sum += *s.Score
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	mean := sum / float64(n)
	if n == len(sections) {
		return &mean, &mean
	}
	return nil, &mean
}

// paperView pools the official subsets' pairs into the four categories
// chat, code, math and safety. Unknown subsets are left out.
func paperView(counts map[string]*Counts) []CategoryResult {
	results := make([]CategoryResult, 0, len(PaperCategories))
	for _, category := range PaperCategories {
		r := CategoryResult{Name: category}
		for _, s := range rewardBenchSubsets {
			c, ok := counts[s.name]
			if !ok || s.category != category {
				continue
			}
			r.Pairs += c.Pairs
			r.Wins += c.Wins
			r.Losses += c.Losses
			r.Ties += c.Ties
			r.Invalid += c.Invalid
		}
		r.Accuracy = r.Counts.accuracy()
		results = append(results, r)
	}
	return results
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
