package label

import (
	"math"
	"testing"
)

func responses(texts []string, scores []float64) []Response {
	out := make([]Response, len(texts))
	for i := range texts {
		out[i] = Response{Text: texts[i], FinishReason: "stop_token", Tokens: 5, Score: scores[i]}
	}
	return out
}

func TestSelectPairsAndDropReasons(t *testing.T) {
	cut := responses([]string{"good", "bad"}, []float64{0.9, 0.1})
	cut[0].FinishReason = "length"
	long := responses([]string{"good", "bad"}, []float64{0.9, 0.1})
	long[1].Tokens = 64

	tests := []struct {
		name      string
		responses []Response
		opts      Options
		want      Choice
	}{
		{"highest chosen lowest rejected", responses([]string{"a", "b", "c", "d"}, []float64{0.4, 0.9, 0.1, 0.5}), Options{}, Choice{Chosen: 1, Rejected: 2}},
		{"ties take first max last min", responses([]string{"a", "b", "c", "d"}, []float64{0.9, 0.1, 0.9, 0.1}), Options{}, Choice{Chosen: 0, Rejected: 3}},
		{"all equal scores", responses([]string{"a", "b", "c"}, []float64{0.5, 0.5, 0.5}), Options{}, Choice{Chosen: 0, Rejected: 2, Reason: Margin}},
		{"one response", responses([]string{"a"}, []float64{0.5}), Options{}, Choice{Reason: TooFew}},
		{"no responses", nil, Options{}, Choice{Reason: TooFew}},
		{"empty chosen", responses([]string{"", "b"}, []float64{0.9, 0.1}), Options{}, Choice{Chosen: 0, Rejected: 1, Reason: Empty}},
		{"blank rejected", responses([]string{"a", " \n"}, []float64{0.9, 0.1}), Options{}, Choice{Chosen: 0, Rejected: 1, Reason: Empty}},
		{"truncated chosen", cut, Options{}, Choice{Chosen: 0, Rejected: 1, Reason: Truncated}},
		{"truncated kept on request", cut, Options{KeepTruncated: true}, Choice{Chosen: 0, Rejected: 1}},
		{"tokens reach max new", long, Options{MaxNewTokens: 64}, Choice{Chosen: 0, Rejected: 1, Reason: Truncated}},
		{"tokens below max new", long, Options{MaxNewTokens: 65}, Choice{Chosen: 0, Rejected: 1}},
		{"identical text", responses([]string{"same", "same", "x"}, []float64{0.9, 0.2, 0.5}), Options{}, Choice{Chosen: 0, Rejected: 1, Reason: Identical}},
		{"margin below minimum", responses([]string{"a", "b"}, []float64{0.55, 0.5}), Options{MinMargin: 0.1}, Choice{Chosen: 0, Rejected: 1, Reason: Margin}},
		{"margin at minimum", responses([]string{"a", "b"}, []float64{0.75, 0.5}), Options{MinMargin: 0.25}, Choice{Chosen: 0, Rejected: 1}},
		{"empty before identical", responses([]string{"", ""}, []float64{0.9, 0.1}), Options{}, Choice{Chosen: 0, Rejected: 1, Reason: Empty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(tt.responses, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Select = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSelectRejectsNaNScore(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := Select(responses([]string{"a", "b"}, []float64{0.5, bad}), Options{}); err == nil {
			t.Errorf("Select with score %v returned no error", bad)
		}
	}
}

func TestCountsString(t *testing.T) {
	var c Counts
	for _, r := range []Reason{Kept, Kept, Empty, Margin, Margin, Identical} {
		c.Add(r)
	}
	want := "kept 2, dropped 4 (too_few 0, empty 1, truncated 0, identical 1, margin 2)"
	if got := c.String(); got != want {
		t.Errorf("Counts.String() = %q, want %q", got, want)
	}
}
