package bench

import (
	"errors"
	"fmt"
)

// StyledScore is the six scores of one RM-Bench prompt, in style order.
type StyledScore struct {
	ID        string
	Subdomain string
	Chosen    [3]float64
	Rejected  [3]float64
}

// MatrixResult is the 3x3 style matrix of a domain or sub-domain.
type MatrixResult struct {
	Name    string `json:"name"`
	Prompts int    `json:"prompts"`

	// Accuracy[i][j] is the share of prompts with score(chosen[i]) >
	// score(rejected[j]), styles in the order of Styles.
	Accuracy [3][3]float64 `json:"accuracy"`

	// Ties[i][j] counts prompts with equal scores, and Invalid[i][j] those
	// with a NaN score; both count as not correct.
	Ties    [3][3]int `json:"ties"`
	Invalid [3][3]int `json:"invalid"`

	Hard   float64 `json:"hard"`   // mean of the cells above the diagonal
	Normal float64 `json:"normal"` // mean of the diagonal
	Easy   float64 `json:"easy"`   // mean of the cells below the diagonal
	Score  float64 `json:"score"`  // mean of hard, normal and easy
}

// RMBenchReport is the roll-up of an RM-Bench run. See the package
// documentation for how each number is formed.
type RMBenchReport struct {
	Schema  string `json:"schema"`
	Prompts int    `json:"prompts"`

	// Domains holds the official domains present, in RMBenchDomains order,
	// then any other domain found in the data.
	Domains []MatrixResult `json:"domains"`

	// Subdomains holds one matrix per domain name as found in the data.
	Subdomains []MatrixResult `json:"subdomains"`

	// Hard, Normal, Easy and Score average the official domains. They are
	// null unless all four domains are present. Partial averages the
	// official domains present.
	Hard    *float64 `json:"hard"`
	Normal  *float64 `json:"normal"`
	Easy    *float64 `json:"easy"`
	Score   *float64 `json:"score"`
	Partial *float64 `json:"partial_score"`

	MissingDomains []string `json:"missing_domains"`
	UnknownDomains []string `json:"unknown_domains"`
	Skipped        []Skip   `json:"skipped"`
}

// RMBenchSchema identifies the summary JSON layout of RMBenchReport.
const RMBenchSchema = "ipo.rmbench/v1"

// matrixCounts accumulates one matrix before it is divided by the prompts.
type matrixCounts struct {
	prompts int
	wins    [3][3]int
	ties    [3][3]int
	invalid [3][3]int
}

func (m *matrixCounts) add(s StyledScore) {
	m.prompts++
	for i := range 3 {
		for j := range 3 {
			switch Compare(s.Chosen[i], s.Rejected[j]) {
			case Win:
				m.wins[i][j]++
			case Tie:
				m.ties[i][j]++
			case Invalid:
				m.invalid[i][j]++
			}
		}
	}
}

func (m *matrixCounts) result(name string) MatrixResult {
	r := MatrixResult{Name: name, Prompts: m.prompts, Ties: m.ties, Invalid: m.invalid}
	for i := range 3 {
		for j := range 3 {
			r.Accuracy[i][j] = float64(m.wins[i][j]) / float64(m.prompts)
		}
	}
	a := r.Accuracy
	r.Hard = (a[0][1] + a[0][2] + a[1][2]) / 3
	r.Normal = (a[0][0] + a[1][1] + a[2][2]) / 3
	r.Easy = (a[1][0] + a[2][0] + a[2][1]) / 3
	r.Score = (r.Hard + r.Normal + r.Easy) / 3
	return r
}

// RollUpRMBench computes the style matrices, the per-domain and the overall
// results from the six scores of each prompt. Skipped rows are carried into
// the report. A (sub-domain, id) pair that appears twice is an error.
func RollUpRMBench(scores []StyledScore, skipped []Skip) (*RMBenchReport, error) {
	if len(scores) == 0 {
		return nil, errors.New("no scored RM-Bench prompts to report")
	}

	report := &RMBenchReport{
		Schema:         RMBenchSchema,
		Prompts:        len(scores),
		Domains:        []MatrixResult{},
		Subdomains:     []MatrixResult{},
		MissingDomains: []string{},
		UnknownDomains: []string{},
		Skipped:        nonNil(skipped),
	}

	domains := map[string]*matrixCounts{}
	subdomains := map[string]*matrixCounts{}
	var domainOrder, subdomainOrder []string
	seen := map[[2]string]bool{}
	for _, s := range scores {
		key := [2]string{s.Subdomain, s.ID}
		if seen[key] {
			return nil, fmt.Errorf("duplicate prompt id %q in domain %s in the scores; each prompt must be scored once", s.ID, s.Subdomain)
		}
		seen[key] = true

		d := domainOf(s.Subdomain)
		if domains[d] == nil {
			domains[d] = &matrixCounts{}
			domainOrder = append(domainOrder, d)
		}
		domains[d].add(s)
		if subdomains[s.Subdomain] == nil {
			subdomains[s.Subdomain] = &matrixCounts{}
			subdomainOrder = append(subdomainOrder, s.Subdomain)
		}
		subdomains[s.Subdomain].add(s)
	}

	var hard, normal, easy, score float64
	present := 0
	for _, d := range RMBenchDomains {
		m, ok := domains[d]
		if !ok {
			report.MissingDomains = append(report.MissingDomains, d)
			continue
		}
		r := m.result(d)
		report.Domains = append(report.Domains, r)
		hard += r.Hard
		normal += r.Normal
		easy += r.Easy
		score += r.Score
		present++
	}
	for _, d := range domainOrder {
		if !isOfficialDomain(d) {
			report.UnknownDomains = append(report.UnknownDomains, d)
			report.Domains = append(report.Domains, domains[d].result(d))
		}
	}
	for _, d := range subdomainOrder {
		report.Subdomains = append(report.Subdomains, subdomains[d].result(d))
	}

	if present > 0 {
		partial := score / float64(present)
		report.Partial = &partial
	}
	if present == len(RMBenchDomains) {
		n := float64(present)
		report.Hard = ptr(hard / n)
		report.Normal = ptr(normal / n)
		report.Easy = ptr(easy / n)
		report.Score = ptr(score / n)
	}
	return report, nil
}

func isOfficialDomain(d string) bool {
	for _, o := range RMBenchDomains {
		if d == o {
			return true
		}
	}
	return false
}

func ptr(v float64) *float64 { return &v }
