package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// RefCacheFile is the file name of the reference log-prob cache in a run's
// output folder.
const RefCacheFile = "reference_logps.json"

// RefLogps are the reference model's sequence log-probs of one example's
// chosen and rejected completions.
type RefLogps struct {
	Chosen   float64 `json:"chosen"`
	Rejected float64 `json:"rejected"`
}

// RefCache stores the reference log-probs of every training and eval
// example, computed once with the adapter off. Key identifies what the
// values depend on (base model, data file, tokenization and truncation
// settings, length normalisation), so a cache made for other inputs is not
// reused.
type RefCache struct {
	Key   string              `json:"key"`
	Logps map[string]RefLogps `json:"logps"` // by example id
}

// NewRefCache returns an empty cache for key.
func NewRefCache(key string) *RefCache {
	return &RefCache{Key: key, Logps: map[string]RefLogps{}}
}

// LoadRefCache reads the cache at path. It returns an empty cache for key
// when the file does not exist or was made for another key, and an error
// when the file cannot be read or parsed.
func LoadRefCache(path, key string) (*RefCache, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return NewRefCache(key), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read reference log-probs: %w", err)
	}
	var c RefCache
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("read reference log-probs %s: %w; delete the file to recompute them", path, err)
	}
	if c.Key != key || c.Logps == nil {
		return NewRefCache(key), nil
	}
	return &c, nil
}

// Save writes the cache to path atomically. float64 values round-trip
// exactly through encoding/json. NaN or infinite values are rejected.
func (c *RefCache) Save(path string) error {
	for id, l := range c.Logps {
		for _, v := range []float64{l.Chosen, l.Rejected} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("save reference log-probs: example %q has log-prob %v; check its tokenization and the base model", id, v)
			}
		}
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("save reference log-probs: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("save reference log-probs: %w", err)
	}
	return nil
}

// Missing returns the ids in ids that the cache has no entry for, in order.
func (c *RefCache) Missing(ids []string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := c.Logps[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}
