package llama

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipo/internal/testutil"
)

// storiesWithConfig copies stories260K into a temporary folder with some
// config.json fields replaced.
func storiesWithConfig(t *testing.T, changes map[string]any) string {
	t.Helper()
	src := testutil.Shared(t, "models/stories260K")
	dir := t.TempDir()
	for _, name := range []string{"model.safetensors", "tokenizer.json"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		cfg[k] = v
	}
	raw, _ = json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadRejectsConfigNotFittingWeights(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]any
		want    string
	}{
		{"huge layer count", map[string]any{"num_hidden_layers": 1e9}, "num_hidden_layers"},
		{"fewer layers than weights", map[string]any{"num_hidden_layers": 4}, "model.layers.4."},
		{"huge head_dim", map[string]any{"head_dim": 1e9}, "head_dim"},
		{"wrong vocabulary", map[string]any{"vocab_size": 1000}, "vocab_size"},
		{"wrong intermediate size", map[string]any{"intermediate_size": 100}, "intermediate_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(storiesWithConfig(t, c.changes))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestLoadAcceptsMatchingConfig(t *testing.T) {
	m, err := Load(storiesWithConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}
