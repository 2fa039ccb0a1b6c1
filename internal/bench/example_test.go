package bench_test

import (
	"fmt"
	"os"

	"ipo/internal/bench"
)

// The flow of a benchmark run: list the responses, score each one with a
// judge, pair the scores up and roll them up. Here a toy judge that prefers
// longer responses replaces the model.
func Example() {
	data := &bench.RewardBenchData{Pairs: []bench.Pair{
		{ID: "1", Subset: "hep-go", Prompt: "Add a and b.", Chosen: "return a + b", Rejected: "return a - b"},
		{ID: "2", Subset: "math-prm", Prompt: "2+2?", Chosen: "2+2 = 4", Rejected: "5"},
	}}

	scores := map[bench.ResponseKey]float64{}
	for _, r := range data.Responses() {
		scores[r.Key] = float64(len(r.Text))
	}
	pairs, err := data.Scores(scores)
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := bench.RollUpRewardBench(pairs, data.Skipped)
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, s := range report.Subsets {
		fmt.Printf("%s: %d wins, %d ties of %d\n", s.Name, s.Wins, s.Ties, s.Pairs)
	}
	// Reasoning weighs math-prm 984 and hep-go 164: 984/(984+164).
	fmt.Printf("Reasoning: %.3f\n", *report.Sections[3].Score)
	_ = bench.WriteJSONL(os.Stdout, bench.PairRecords(pairs))
	// Output:
	// math-prm: 1 wins, 0 ties of 1
	// hep-go: 0 wins, 1 ties of 1
	// Reasoning: 0.857
	// {"id":"1","subset":"hep-go","section":"Reasoning","score_chosen":12,"score_rejected":12,"outcome":"tie"}
	// {"id":"2","subset":"math-prm","section":"Reasoning","score_chosen":7,"score_rejected":1,"outcome":"win"}
}
