package bench

import (
	"fmt"
	"path/filepath"
	"strings"

	"ipo/internal/dataset"
)

// Styles names RM-Bench's three response styles, in the order of the
// chosen and rejected lists.
var Styles = [3]string{"concise", "detailed plain", "detailed markdown"}

// RMBenchDomains lists the official RM-Bench domains in report order.
var RMBenchDomains = []string{"chat", "code", "math", "safety"}

// rmBenchSubdomains lists the domain names that RM-Bench rows and files
// carry; both safety sub-domains belong to the safety domain.
var rmBenchSubdomains = []string{"chat", "code", "math", "safety-refuse", "safety-response"}

// StyledPrompt is one RM-Bench row: a prompt with three chosen and three
// rejected responses, one per style.
type StyledPrompt struct {
	ID        string
	Subdomain string // as in the data: chat, code, math, safety-refuse or safety-response
	Subset    string // the row's source subset, when given
	Prompt    string
	Chosen    [3]string
	Rejected  [3]string
	Where     string
}

// Domain returns the official domain of the prompt: the first of chat, code,
// math and safety that its sub-domain starts with, or the sub-domain itself
// when none matches.
func (p StyledPrompt) Domain() string {
	return domainOf(p.Subdomain)
}

func domainOf(subdomain string) string {
	for _, d := range RMBenchDomains {
		if strings.HasPrefix(subdomain, d) {
			return d
		}
	}
	return subdomain
}

// RMBenchData is the result of LoadRMBench.
type RMBenchData struct {
	Prompts []StyledPrompt
	Skipped []Skip
}

// LoadRMBench reads RM-Bench rows (fields id, prompt, chosen[3],
// rejected[3], and domain in the combined file) from a file or folder. A
// row without a domain field takes it from its file name, such as
// safety-refuse_filtered.json; a row with neither is an error. A row with
// a missing or empty field, or not exactly three responses per side, is
// skipped with the reason. Two rows of one sub-domain with the same id are
// an error. The per-domain files reuse ids, so an id is unique only within
// its sub-domain.
func LoadRMBench(path string) (*RMBenchData, error) {
	rows, err := dataset.Read(path)
	if err != nil {
		return nil, err
	}

	data := &RMBenchData{}
	seen := map[[2]string]string{} // (sub-domain, id) to where first seen
	for _, row := range rows {
		prompt, reason, err := styledPromptOf(row)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			data.Skipped = append(data.Skipped, Skip{Where: row.Where(), ID: prompt.ID, Reason: reason})
			continue
		}

		key := [2]string{prompt.Subdomain, prompt.ID}
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: duplicate id %q in domain %s, first seen at %s; remove the repeated row or file", row.Where(), prompt.ID, prompt.Subdomain, first)
		}
		seen[key] = row.Where()
		data.Prompts = append(data.Prompts, prompt)
	}
	if len(data.Prompts) == 0 {
		return nil, fmt.Errorf("%s: no usable RM-Bench rows (%d read, %d skipped); rows need id, prompt, chosen[3] and rejected[3]", path, len(rows), len(data.Skipped))
	}
	return data, nil
}

// styledPromptOf validates one row. It returns the reason when the row is
// skipped, and an error when the row has no domain field and its file name
// names no domain.
func styledPromptOf(row dataset.Row) (StyledPrompt, string, error) {
	p := StyledPrompt{Where: row.Where()}

	subdomain, err := rowSubdomain(row)
	if err != nil {
		return p, "", err
	}
	p.Subdomain = subdomain

	id, reason := rowID(row)
	p.ID = id
	if reason != "" {
		return p, reason, nil
	}

	prompt, err := row.String("prompt")
	if err != nil {
		return p, fieldReason("prompt", err), nil
	}
	if strings.TrimSpace(prompt) == "" {
		return p, "empty prompt", nil
	}
	p.Prompt = prompt
	p.Subset, _ = row.Fields["subset"].(string)

	for _, side := range []struct {
		name string
		dst  *[3]string
	}{{"chosen", &p.Chosen}, {"rejected", &p.Rejected}} {
		list, err := row.Strings(side.name)
		if err != nil {
			return p, fieldReason(side.name, err), nil
		}
		if len(list) != 3 {
			return p, fmt.Sprintf("%s has %d responses, want 3 (one per style)", side.name, len(list)), nil
		}
		for i, s := range list {
			if strings.TrimSpace(s) == "" {
				return p, fmt.Sprintf("empty %s response (%s)", side.name, Styles[i]), nil
			}
			side.dst[i] = s
		}
	}
	return p, "", nil
}

// rowSubdomain returns the row's domain field, or the sub-domain that its
// file name starts with.
func rowSubdomain(row dataset.Row) (string, error) {
	if v, ok := row.Fields["domain"]; ok && v != nil {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "", fmt.Errorf("%s: field \"domain\" must be a non-empty string such as \"chat\" or \"safety-refuse\"", row.Where())
		}
		return s, nil
	}

	base := strings.ToLower(filepath.Base(row.File))
	best := ""
	for _, d := range rmBenchSubdomains {
		if strings.HasPrefix(base, d) && len(d) > len(best) {
			best = d
		}
	}
	if best == "" {
		return "", fmt.Errorf("%s: no domain field, and the file name does not start with chat, code, math, safety-refuse or safety-response; rename the file (such as chat_filtered.json) or add a domain field", row.Where())
	}
	return best, nil
}
