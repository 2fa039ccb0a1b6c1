package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PairRecord is the per-example JSONL record of a RewardBench pair.
type PairRecord struct {
	ID            string    `json:"id"`
	Subset        string    `json:"subset"`
	Section       string    `json:"section"`
	ScoreChosen   JSONFloat `json:"score_chosen"`
	ScoreRejected JSONFloat `json:"score_rejected"`
	Outcome       string    `json:"outcome"` // win, loss, tie or invalid
}

// PairRecords builds one record per pair, in input order.
func PairRecords(scores []PairScore) []PairRecord {
	out := make([]PairRecord, len(scores))
	for i, s := range scores {
		out[i] = PairRecord{
			ID: s.ID, Subset: s.Subset, Section: SubsetSection(s.Subset),
			ScoreChosen: JSONFloat(s.Chosen), ScoreRejected: JSONFloat(s.Rejected),
			Outcome: Compare(s.Chosen, s.Rejected).String(),
		}
	}
	return out
}

// StyledRecord is the per-example JSONL record of an RM-Bench prompt.
type StyledRecord struct {
	ID             string       `json:"id"`
	Domain         string       `json:"domain"`
	Subdomain      string       `json:"subdomain"`
	ScoresChosen   [3]JSONFloat `json:"scores_chosen"`   // in the order of Styles
	ScoresRejected [3]JSONFloat `json:"scores_rejected"` // in the order of Styles
	Wins           int          `json:"wins"`            // matrix cells won, of 9
}

// StyledRecords builds one record per prompt, in input order.
func StyledRecords(scores []StyledScore) []StyledRecord {
	out := make([]StyledRecord, len(scores))
	for k, s := range scores {
		r := StyledRecord{ID: s.ID, Domain: domainOf(s.Subdomain), Subdomain: s.Subdomain}
		for i := range 3 {
			r.ScoresChosen[i] = JSONFloat(s.Chosen[i])
			r.ScoresRejected[i] = JSONFloat(s.Rejected[i])
			for j := range 3 {
				if Compare(s.Chosen[i], s.Rejected[j]) == Win {
					r.Wins++
				}
			}
		}
		out[k] = r
	}
	return out
}

// WriteJSONL writes one JSON object per line.
func WriteJSONL[T any](w io.Writer, records []T) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteJSON writes a report as indented JSON (see the package
// documentation for the schema).
func WriteJSON(w io.Writer, report any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}

// percent formats a fraction as a percentage with two decimals, or "n/a".
func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", 100**v)
}

// WriteRewardBenchTable writes the subsets, sections, paper view and
// overall score as plain-text tables. Accuracies are percentages.
func WriteRewardBenchTable(w io.Writer, r *RewardBenchReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "subset\tsection\tpairs\texpected\twins\tties\tinvalid\taccuracy\t")
	for _, s := range r.Subsets {
		section, expected := s.Section, fmt.Sprint(s.Expected)
		if section == "" {
			section, expected = "(none)", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%s\t\n", s.Name, section, s.Pairs, expected, s.Wins, s.Ties, s.Invalid, percent(&s.Accuracy))
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t")
	fmt.Fprintln(tw, "section\tsubsets\tpairs\tscore\t")
	for _, s := range r.Sections {
		total := len(s.Present) + len(s.Missing)
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t\n", s.Name, len(s.Present), total, s.Pairs, percent(s.Score))
	}
	fmt.Fprintln(tw, "\t\t\t\t")
	fmt.Fprintln(tw, "paper view\tpairs\twins\tties\taccuracy\t")
	for _, c := range r.Paper {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", c.Name, c.Pairs, c.Wins, c.Ties, percent(c.Accuracy))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\npairs %d, wins %d, losses %d, ties %d, invalid %d, accuracy %s\n",
		r.Pairs, r.Wins, r.Losses, r.Ties, r.Invalid, percent(&r.Accuracy))
	if r.Score != nil {
		fmt.Fprintf(w, "RewardBench score: %s\n", percent(r.Score))
	} else {
		fmt.Fprintf(w, "RewardBench score: n/a (sections missing); mean of the sections present: %s (partial)\n", percent(r.Partial))
	}
	writeList(w, "missing subsets", r.MissingSubsets)
	writeList(w, "incomplete subsets (fewer rows than the full split)", r.IncompleteSubsets)
	writeList(w, "subsets in no section (left out of the sections)", r.UnknownSubsets)
	writeSkips(w, r.Skipped)
	return nil
}

// WriteRMBenchTable writes the domain and sub-domain results and the style
// matrices as plain-text tables. Accuracies are percentages.
func WriteRMBenchTable(w io.Writer, r *RMBenchReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "domain\tprompts\thard\tnormal\teasy\tscore\t")
	for _, d := range r.Domains {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", d.Name, d.Prompts, percent(&d.Hard), percent(&d.Normal), percent(&d.Easy), percent(&d.Score))
	}
	fmt.Fprintf(tw, "overall\t%d\t%s\t%s\t%s\t%s\t\n", r.Prompts, percent(r.Hard), percent(r.Normal), percent(r.Easy), percent(r.Score))
	fmt.Fprintln(tw, "\t\t\t\t\t\t")
	fmt.Fprintln(tw, "sub-domain\tprompts\thard\tnormal\teasy\tscore\t")
	for _, d := range r.Subdomains {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", d.Name, d.Prompts, percent(&d.Hard), percent(&d.Normal), percent(&d.Easy), percent(&d.Score))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	for _, d := range r.Domains {
		fmt.Fprintf(w, "\n%s: accuracy[chosen style][rejected style]\n", d.Name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\t%s\t\n", strings.Join(Styles[:], "\t"))
		for i := range 3 {
			fmt.Fprintf(tw, "%s", Styles[i])
			for j := range 3 {
				fmt.Fprintf(tw, "\t%s", percent(&d.Accuracy[i][j]))
			}
			fmt.Fprintln(tw, "\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if r.Score == nil {
		fmt.Fprintf(w, "\nRM-Bench score: n/a (domains missing); mean of the domains present: %s (partial)\n", percent(r.Partial))
	} else {
		fmt.Fprintf(w, "\nRM-Bench score: %s\n", percent(r.Score))
	}
	writeList(w, "missing domains", r.MissingDomains)
	writeList(w, "domains outside chat, code, math and safety (left out of the overall score)", r.UnknownDomains)
	writeSkips(w, r.Skipped)
	return nil
}

func writeList(w io.Writer, label string, items []string) {
	if len(items) > 0 {
		fmt.Fprintf(w, "%s: %s\n", label, strings.Join(items, ", "))
	}
}

// writeSkips summarizes skipped rows by reason and shows the first few.
func writeSkips(w io.Writer, skipped []Skip) {
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "skipped rows: %d\n", len(skipped))
	const shown = 5
	for i, s := range skipped {
		if i == shown {
			fmt.Fprintf(w, "  ... and %d more (see the summary JSON)\n", len(skipped)-shown)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", s.Where, s.Reason)
	}
}
