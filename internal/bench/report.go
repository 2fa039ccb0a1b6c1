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

// writeTable writes a header and rows as aligned columns.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// WriteRewardBenchTable writes the subsets, sections, paper view and
// overall score as plain-text tables. Accuracies are percentages.
func WriteRewardBenchTable(w io.Writer, r *RewardBenchReport) error {
	var rows [][]string
	for _, s := range r.Subsets {
		section, expected := s.Section, fmt.Sprint(s.Expected)
		if section == "" {
			section, expected = "(none)", "-"
		}
		rows = append(rows, []string{s.Name, section, fmt.Sprint(s.Pairs), expected,
			fmt.Sprint(s.Wins), fmt.Sprint(s.Ties), fmt.Sprint(s.Invalid), percent(&s.Accuracy)})
	}
	if err := writeTable(w, []string{"subset", "section", "pairs", "expected", "wins", "ties", "invalid", "accuracy"}, rows); err != nil {
		return err
	}

	rows = rows[:0]
	for _, s := range r.Sections {
		total := len(s.Present) + len(s.Missing)
		rows = append(rows, []string{s.Name, fmt.Sprintf("%d/%d", len(s.Present), total), fmt.Sprint(s.Pairs), percent(s.Score)})
	}
	fmt.Fprintln(w)
	if err := writeTable(w, []string{"section", "subsets", "pairs", "score"}, rows); err != nil {
		return err
	}

	rows = rows[:0]
	for _, c := range r.Paper {
		rows = append(rows, []string{c.Name, fmt.Sprint(c.Pairs), fmt.Sprint(c.Wins), fmt.Sprint(c.Ties), percent(c.Accuracy)})
	}
	fmt.Fprintln(w)
	if err := writeTable(w, []string{"paper view", "pairs", "wins", "ties", "accuracy"}, rows); err != nil {
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
	header := []string{"domain", "prompts", "hard", "normal", "easy", "score"}
	var rows [][]string
	for _, d := range r.Domains {
		rows = append(rows, []string{d.Name, fmt.Sprint(d.Prompts), percent(&d.Hard), percent(&d.Normal), percent(&d.Easy), percent(&d.Score)})
	}
	rows = append(rows, []string{"overall", fmt.Sprint(r.Prompts), percent(r.Hard), percent(r.Normal), percent(r.Easy), percent(r.Score)})
	if err := writeTable(w, header, rows); err != nil {
		return err
	}

	rows = rows[:0]
	for _, d := range r.Subdomains {
		rows = append(rows, []string{d.Name, fmt.Sprint(d.Prompts), percent(&d.Hard), percent(&d.Normal), percent(&d.Easy), percent(&d.Score)})
	}
	header[0] = "sub-domain"
	fmt.Fprintln(w)
	if err := writeTable(w, header, rows); err != nil {
		return err
	}

	for _, d := range r.Domains {
		rows = rows[:0]
		for i := range 3 {
			row := []string{Styles[i]}
			for j := range 3 {
				row = append(row, percent(&d.Accuracy[i][j]))
			}
			rows = append(rows, row)
		}
		fmt.Fprintf(w, "\n%s: accuracy by chosen style (rows) and rejected style (columns)\n", d.Name)
		if err := writeTable(w, append([]string{""}, Styles[:]...), rows); err != nil {
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
	const maxListed = 5
	for i, s := range skipped {
		if i == maxListed {
			fmt.Fprintf(w, "  ... and %d more (see the summary JSON)\n", len(skipped)-maxListed)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", s.Where, s.Reason)
	}
}
