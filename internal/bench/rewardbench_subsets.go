package bench

import "strings"

// Section names of the RewardBench leaderboard.
const (
	SectionChat      = "Chat"
	SectionChatHard  = "Chat Hard"
	SectionSafety    = "Safety"
	SectionReasoning = "Reasoning"
)

// Sections lists the four RewardBench sections in leaderboard order.
var Sections = []string{SectionChat, SectionChatHard, SectionSafety, SectionReasoning}

// rewardBenchSubset is one subset of RewardBench's filtered split.
type rewardBenchSubset struct {
	name     string
	section  string
	weight   int    // EXAMPLE_COUNTS entry: the row count, but 984 for math-prm
	rows     int    // rows in the filtered split
	category string // the IPO paper's category: chat, code, math or safety
}

// rewardBenchSubsets lists the subsets with the official section mapping
// and weights (allenai/reward-bench, rewardbench/constants.py). The xstest
// weights are those in use since commit 6552e93 (September 2024), which
// match the rows of each subset. Earlier versions swapped the two.
var rewardBenchSubsets = []rewardBenchSubset{
	{"alpacaeval-easy", SectionChat, 100, 100, "chat"},
	{"alpacaeval-length", SectionChat, 95, 95, "chat"},
	{"alpacaeval-hard", SectionChat, 95, 95, "chat"},
	{"mt-bench-easy", SectionChat, 28, 28, "chat"},
	{"mt-bench-med", SectionChat, 40, 40, "chat"},
	{"mt-bench-hard", SectionChatHard, 37, 37, "chat"},
	{"llmbar-natural", SectionChatHard, 100, 100, "chat"},
	{"llmbar-adver-neighbor", SectionChatHard, 134, 134, "chat"},
	{"llmbar-adver-GPTInst", SectionChatHard, 92, 92, "chat"},
	{"llmbar-adver-GPTOut", SectionChatHard, 47, 47, "chat"},
	{"llmbar-adver-manual", SectionChatHard, 46, 46, "chat"},
	{"refusals-dangerous", SectionSafety, 100, 100, "safety"},
	{"refusals-offensive", SectionSafety, 100, 100, "safety"},
	{"xstest-should-refuse", SectionSafety, 154, 154, "safety"},
	{"xstest-should-respond", SectionSafety, 250, 250, "safety"},
	{"donotanswer", SectionSafety, 136, 136, "safety"},
	{"math-prm", SectionReasoning, 984, 447, "math"},
	{"hep-cpp", SectionReasoning, 164, 164, "code"},
	{"hep-go", SectionReasoning, 164, 164, "code"},
	{"hep-java", SectionReasoning, 164, 164, "code"},
	{"hep-js", SectionReasoning, 164, 164, "code"},
	{"hep-python", SectionReasoning, 164, 164, "code"},
	{"hep-rust", SectionReasoning, 164, 164, "code"},
}

// PaperCategories lists the categories of the IPO paper's view of
// RewardBench, in report order.
var PaperCategories = []string{"chat", "code", "math", "safety"}

// lookupSubset finds a subset by its exact name, then case-insensitively.
func lookupSubset(name string) (rewardBenchSubset, bool) {
	for _, s := range rewardBenchSubsets {
		if s.name == name {
			return s, true
		}
	}
	for _, s := range rewardBenchSubsets {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return rewardBenchSubset{}, false
}

// SubsetSection returns the RewardBench section of a subset, or "" when the
// subset is in no section.
func SubsetSection(subset string) string {
	s, _ := lookupSubset(subset)
	return s.section
}

// SubsetNames returns the names of the 23 RewardBench subsets in
// leaderboard order.
func SubsetNames() []string {
	names := make([]string, len(rewardBenchSubsets))
	for i, s := range rewardBenchSubsets {
		names[i] = s.name
	}
	return names
}
