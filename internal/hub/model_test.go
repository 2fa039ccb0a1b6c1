package hub

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"ipo/internal/safetensors"
	"ipo/internal/testutil"
)

// TestResolveServesRealModelFolder serves the stories260K folder through
// the fake Hub and opens the downloaded weights.
func TestResolveServesRealModelFolder(t *testing.T) {
	isolate(t)
	src := testutil.Shared(t, "models/stories260K")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}

	hub := newFakeHub(t, "models", "karpathy/stories260K", files)
	dir := resolveOK(t, "karpathy/stories260K", Options{Endpoint: hub.hub.URL, CacheDir: t.TempDir()})

	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: want the %d served bytes, got %d (err %v)", name, len(want), len(got), err)
		}
	}

	set, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatalf("OpenModel on the downloaded snapshot: %v", err)
	}
	defer set.Close()
	if _, err := set.Float32("model.embed_tokens.weight", 512, 64); err != nil {
		t.Errorf("read embeddings: %v", err)
	}
}

func TestResolveFollowsRenamedRepo(t *testing.T) {
	isolate(t)
	hub := newFakeHub(t, "models", "org/tiny", modelFiles())
	hub.renamed = "org/old"

	dir := resolveOK(t, "org/old", Options{Endpoint: hub.hub.URL, CacheDir: t.TempDir(), Patterns: []string{"*.json", "*.safetensors"}})
	got, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(got, modelFiles()["model.safetensors"]) {
		t.Errorf("model.safetensors through a renamed id: want the served bytes, got %d bytes (err %v)", len(got), err)
	}
	if want := "models--org--old"; filepath.Base(filepath.Dir(filepath.Dir(dir))) != want {
		t.Errorf("cache folder: want %s, the id as given, got %s", want, dir)
	}
}
