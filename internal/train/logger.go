package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Metric names shared with TRL's logs, besides the DPOMetrics keys.
const (
	MetricLoss         = "loss"
	MetricLR           = "learning_rate"
	MetricGradNorm     = "grad_norm"
	MetricTokensPerSec = "tokens_per_second"
)

// metricOrder is the order of known metrics in a console line and a JSONL
// record; other metrics follow in sorted order.
var metricOrder = []string{
	MetricLoss,
	"rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
	"logps/chosen", "logps/rejected",
	MetricLR, MetricGradNorm, MetricTokensPerSec,
}

// Values returns the metrics under TRL's log keys.
func (m DPOMetrics) Values() map[string]float64 {
	return map[string]float64{
		MetricLoss:           m.Loss,
		"rewards/chosen":     m.RewardsChosen,
		"rewards/rejected":   m.RewardsRejected,
		"rewards/accuracies": m.RewardsAccuracies,
		"rewards/margins":    m.RewardsMargins,
		"logps/chosen":       m.LogpsChosen,
		"logps/rejected":     m.LogpsRejected,
	}
}

// Record is one log entry: the optimizer step, the epoch as a fraction, and
// named values. Eval records carry the prefix "eval_" on every name, as
// the Trainer logs them.
type Record struct {
	Step   int
	Epoch  float64
	Values map[string]float64
}

// Prefixed returns a copy of r with prefix before every value name.
func (r Record) Prefixed(prefix string) Record {
	out := Record{Step: r.Step, Epoch: r.Epoch, Values: map[string]float64{}}
	for k, v := range r.Values {
		out.Values[prefix+k] = v
	}
	return out
}

// keys returns the value names in log order.
func (r Record) keys() []string {
	rank := map[string]int{}
	for i, k := range metricOrder {
		rank[k] = i + 1
		rank["eval_"+k] = i + 1
	}
	keys := make([]string, 0, len(r.Values))
	for k := range r.Values {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		if ri == 0 {
			ri = len(metricOrder) + 1
		}
		if rj == 0 {
			rj = len(metricOrder) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// Logger writes each record as a console line and as one JSON object per
// line. Either writer may be nil.
type Logger struct {
	Console    io.Writer
	JSONL      io.Writer
	TotalSteps int // shown as "step N/TotalSteps" when positive
}

// Log writes r to both outputs.
func (l *Logger) Log(r Record) error {
	keys := r.keys()
	if l.Console != nil {
		if _, err := io.WriteString(l.Console, l.consoleLine(r, keys)); err != nil {
			return fmt.Errorf("write log: %w", err)
		}
	}
	if l.JSONL != nil {
		if _, err := l.JSONL.Write(jsonLine(r, keys)); err != nil {
			return fmt.Errorf("write log: %w", err)
		}
	}
	return nil
}

func (l *Logger) consoleLine(r Record, keys []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d", r.Step)
	if l.TotalSteps > 0 {
		fmt.Fprintf(&b, "/%d", l.TotalSteps)
	}
	fmt.Fprintf(&b, " epoch %.2f", r.Epoch)
	for _, k := range keys {
		v := r.Values[k]
		switch strings.TrimPrefix(k, "eval_") {
		case MetricLR:
			fmt.Fprintf(&b, " lr %.3e", v)
		case MetricTokensPerSec:
			fmt.Fprintf(&b, " tokens/s %.0f", v)
		default:
			fmt.Fprintf(&b, " %s %.4f", k, v)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// jsonLine encodes r with "step" and "epoch" first and the values in log
// order. NaN and infinite values, which JSON cannot hold, are written as
// null.
func jsonLine(r Record, keys []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"step":%d,"epoch":%s`, r.Step, jsonFloat(r.Epoch))
	for _, k := range keys {
		name, _ := json.Marshal(k)
		fmt.Fprintf(&b, ",%s:%s", name, jsonFloat(r.Values[k]))
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func jsonFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// TruncateLog rewrites the JSONL log at path without the records of steps
// after step, so that a resumed run does not log those steps twice. A
// missing file is not an error.
func TruncateLog(path string, step int) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("truncate log: %w", err)
	}

	var kept bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var rec struct {
			Step *int `json:"step"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Step == nil {
			// Lines that do not parse, such as a torn last line from an
			// interrupted write, are dropped.
			continue
		}
		if *rec.Step <= step {
			kept.Write(sc.Bytes())
			kept.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("truncate log %s: %w", path, err)
	}
	return writeFileAtomic(path, kept.Bytes())
}
