package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// CanonicalConfig returns cfg as a map under its YAML key names (inline
// structs flattened), the form a checkpoint stores.
func CanonicalConfig(cfg any) (map[string]any, error) {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("canonical config: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("canonical config: %w", err)
	}

	// A JSON round trip gives the value types that a checkpoint read back
	// from JSON has, so that saved and current configs compare equal.
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("canonical config: %w", err)
	}
	m = nil
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("canonical config: %w", err)
	}
	return m, nil
}

// ConfigHash returns the SHA-256 of the canonical JSON of cfg (sorted keys)
// as hex, leaving out the keys in ignore.
func ConfigHash(cfg any, ignore ...string) (string, error) {
	m, err := CanonicalConfig(cfg)
	if err != nil {
		return "", err
	}
	for _, k := range ignore {
		delete(m, k)
	}
	js, err := json.Marshal(m) // encoding/json sorts map keys
	if err != nil {
		return "", fmt.Errorf("config hash: %w", err)
	}
	sum := sha256.Sum256(js)
	return hex.EncodeToString(sum[:]), nil
}

// NewState returns the state of a fresh run of cfg: step 0, the config and
// its hash without the keys in ignore.
func NewState(cfg any, ignore ...string) (State, error) {
	m, err := CanonicalConfig(cfg)
	if err != nil {
		return State{}, err
	}
	for _, k := range ignore {
		delete(m, k)
	}
	hash, err := ConfigHash(cfg, ignore...)
	if err != nil {
		return State{}, err
	}
	return State{ConfigHash: hash, Config: m}, nil
}

// CheckConfig returns an error naming every key whose value differs
// between the checkpoint's config and cfg, leaving out the keys in ignore
// (settings such as logging_steps that may change on resume).
func (s State) CheckConfig(cfg any, ignore ...string) error {
	hash, err := ConfigHash(cfg, ignore...)
	if err != nil {
		return err
	}
	if hash == s.ConfigHash {
		return nil
	}

	current, err := CanonicalConfig(cfg)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for k := range current {
		keys[k] = true
	}
	for k := range s.Config {
		keys[k] = true
	}
	var changes []string
	for k := range keys {
		if slices.Contains(ignore, k) {
			continue
		}
		old, was := s.Config[k]
		now, is := current[k]
		if was && is && reflect.DeepEqual(old, now) {
			continue
		}
		changes = append(changes, fmt.Sprintf("%s: %s -> %s", k, describe(old, was), describe(now, is)))
	}
	sort.Strings(changes)
	if len(changes) == 0 {
		return fmt.Errorf("resume: config hash %s differs from the checkpoint's %s; start a new output folder or restore the checkpoint's config", hash, s.ConfigHash)
	}
	return fmt.Errorf("resume: config changed since the checkpoint (%s); restore those values or start a new output folder", strings.Join(changes, "; "))
}

func describe(v any, present bool) string {
	if !present {
		return "(unset)"
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(js)
}

// NonFiniteError reports a NaN or infinite loss or gradient norm: the step,
// the ids of the batch's examples and the value.
type NonFiniteError struct {
	What     string // "loss" or "grad_norm"
	Value    float64
	Step     int
	BatchIDs []string
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("%s is %v at step %d (batch ids: %s); the run stopped and the last checkpoint before this step is intact; inspect those examples, or start again in a new output folder with a lower learning_rate (--resume keeps the settings of the checkpoint)",
		e.What, e.Value, e.Step, strings.Join(e.BatchIDs, ", "))
}

// CheckFinite returns a *NonFiniteError when value is NaN or infinite. what
// names the value, such as "loss".
func CheckFinite(what string, value float64, step int, batchIDs []string) error {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return &NonFiniteError{What: what, Value: value, Step: step, BatchIDs: append([]string(nil), batchIDs...)}
	}
	return nil
}
