package hub

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// isolate clears the Hugging Face environment so tests never read the
// caller's cache, token or endpoint.
func isolate(t *testing.T) {
	t.Helper()
	for _, name := range []string{"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN",
		"HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE"} {
		t.Setenv(name, "")
	}
	t.Setenv("HF_HOME", t.TempDir())
}

func modelFiles() map[string][]byte {
	weights := make([]byte, 3<<20+123) // over 1 MiB, so progress reports more than once
	for i := range weights {
		weights[i] = byte(i * 31)
	}
	return map[string][]byte{
		"config.json":            []byte(`{"model_type":"llama","hidden_size":64}`),
		"generation_config.json": []byte(`{"bos_token_id":1}`),
		"model.safetensors":      weights,
		"README.md":              []byte("# tiny\n"),
	}
}

func resolveOK(t *testing.T, id string, opts Options) string {
	t.Helper()
	dir, err := Resolve(context.Background(), id, opts)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", id, err)
	}
	return dir
}

func TestResolveDownloadsThenUsesCache(t *testing.T) {
	isolate(t)
	files := modelFiles()
	hub := newFakeHub(t, "models", "org/tiny", files)
	hub.token = "hf_secret"
	cache := t.TempDir()

	var mu sync.Mutex
	progress := map[string]int64{}
	reports := 0
	opts := Options{
		Endpoint: hub.hub.URL,
		Token:    "hf_secret",
		CacheDir: cache,
		Patterns: []string{"*.json", "*.safetensors"},
		Progress: func(file string, done, total int64) {
			mu.Lock()
			defer mu.Unlock()
			progress[file] = done
			reports++
			if total != int64(len(files[file])) {
				t.Errorf("progress total of %s: want %d, got %d", file, len(files[file]), total)
			}
		},
	}
	dir := resolveOK(t, "org/tiny", opts)

	repo := filepath.Join(cache, "models--org--tiny")
	if want := filepath.Join(repo, "snapshots", hub.commit); dir != want {
		t.Errorf("snapshot folder: want %s, got %s", want, dir)
	}
	ref, err := os.ReadFile(filepath.Join(repo, "refs", "main"))
	if err != nil || string(ref) != hub.commit {
		t.Errorf("refs/main: want %q, got %q (err %v)", hub.commit, ref, err)
	}

	for name, content := range files {
		local := filepath.Join(dir, name)
		if name == "README.md" {
			if _, err := os.Lstat(local); err == nil {
				t.Errorf("README.md: want it skipped by the patterns, but it was downloaded")
			}
			continue
		}
		got, err := os.ReadFile(local)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: want %d bytes as served, got %d (err %v)", name, len(content), len(got), err)
		}
		etag := gitBlobID(content)
		if isLFS(name) {
			etag = sha256Hex(content)
		}
		link, err := os.Readlink(local)
		if want := filepath.Join("..", "..", "blobs", etag); err != nil || link != want {
			t.Errorf("%s: want a symlink to %s, got %q (err %v)", name, want, link, err)
		}
	}
	if incomplete, _ := filepath.Glob(filepath.Join(repo, "blobs", "*.incomplete")); len(incomplete) != 0 {
		t.Errorf("want no .incomplete files left, got %v", incomplete)
	}

	if got := progress["model.safetensors"]; got != int64(len(files["model.safetensors"])) {
		t.Errorf("final progress of model.safetensors: want %d, got %d", len(files["model.safetensors"]), got)
	}
	if reports < 4 {
		t.Errorf("progress reports: want at least 4 for three files and 3 MiB, got %d", reports)
	}
	for _, auth := range hub.cdnAuth {
		if auth != "" {
			t.Errorf("CDN request carried Authorization %q: the token must stay with the Hub", auth)
		}
	}

	before := hub.requestCount()
	again := resolveOK(t, "org/tiny", opts)
	if again != dir {
		t.Errorf("second Resolve: want %s, got %s", dir, again)
	}
	if n := hub.requestCount() - before; n != 0 {
		t.Errorf("second Resolve: want no requests, got %d: %v", n, hub.log()[before:])
	}

	opts.Update = true
	resolveOK(t, "org/tiny", opts)
	if n := hub.requestCount() - before; n != 1 {
		t.Errorf("Resolve with Update: want 1 request for the file list, got %d: %v", n, hub.log()[before:])
	}
}

func TestResolveFetchesMissingShard(t *testing.T) {
	isolate(t)
	files := map[string][]byte{
		"config.json":                      []byte(`{}`),
		"model.safetensors.index.json":     []byte(`{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`),
		"model-00001-of-00002.safetensors": []byte("shard one"),
		"model-00002-of-00002.safetensors": []byte("shard two"),
	}
	hub := newFakeHub(t, "models", "org/sharded", files)
	opts := Options{Endpoint: hub.hub.URL, CacheDir: t.TempDir()}
	dir := resolveOK(t, "org/sharded", opts)

	os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
	before := hub.requestCount()
	resolveOK(t, "org/sharded", opts)

	got, err := os.ReadFile(filepath.Join(dir, "model-00002-of-00002.safetensors"))
	if err != nil || string(got) != "shard two" {
		t.Errorf("refetched shard: want %q, got %q (err %v)", "shard two", got, err)
	}
	for _, req := range hub.log()[before:] {
		if strings.Contains(req, "CDN") {
			t.Errorf("want the shard linked from its cached blob with no CDN request, got %s", req)
		}
	}
}

func TestResolveResumesPartialBlob(t *testing.T) {
	isolate(t)
	files := modelFiles()
	hub := newFakeHub(t, "models", "org/tiny", files)
	cache := t.TempDir()

	weights := files["model.safetensors"]
	blobs := filepath.Join(cache, "models--org--tiny", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	half := len(weights) / 2
	partial := filepath.Join(blobs, sha256Hex(weights)+".incomplete")
	if err := os.WriteFile(partial, weights[:half], 0o644); err != nil {
		t.Fatal(err)
	}

	dir := resolveOK(t, "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"model.safetensors"}})

	got, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(got, weights) {
		t.Fatalf("resumed file: want %d bytes as served, got %d (err %v)", len(weights), len(got), err)
	}
	wantRange := "CDN GET /blobs/" + sha256Hex(weights) + " bytes=" + strconv.Itoa(half) + "-"
	if !contains(hub.log(), wantRange) {
		t.Errorf("want a ranged request %q, got %v", wantRange, hub.log())
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("want the .incomplete file renamed away, stat error %v", err)
	}
}

func TestResolveRejectsChecksumMismatch(t *testing.T) {
	isolate(t)
	hub := newFakeHub(t, "models", "org/tiny", modelFiles())
	hub.corrupt["model.safetensors"] = true
	cache := t.TempDir()

	_, err := Resolve(context.Background(), "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "model.safetensors") {
		t.Fatalf("want a checksum mismatch naming model.safetensors, got %v", err)
	}

	blobs, _ := os.ReadDir(filepath.Join(cache, "models--org--tiny", "blobs"))
	want := sha256Hex(modelFiles()["model.safetensors"])
	for _, b := range blobs {
		if strings.HasPrefix(b.Name(), want) {
			t.Errorf("want no blob or partial file for the corrupt download, found %s", b.Name())
		}
	}
}

func TestResolveAuthentication(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T)
		token   string
		wantErr string
	}{
		{"no token", func(t *testing.T) {}, "", "HF_TOKEN"},
		{"wrong token", func(t *testing.T) {}, "hf_wrong", "token was rejected (HTTP 401)"},
		{"option token", func(t *testing.T) {}, "hf_secret", ""},
		{"HF_TOKEN variable", func(t *testing.T) { t.Setenv("HF_TOKEN", "hf_secret") }, "", ""},
		{"token file", func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(os.Getenv("HF_HOME"), "token"), []byte("hf_secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			tt.setup(t)
			hub := newFakeHub(t, "models", "org/private", modelFiles())
			hub.token = "hf_secret"

			_, err := Resolve(context.Background(), "org/private", Options{Endpoint: hub.hub.URL, CacheDir: t.TempDir(), Token: tt.token})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want an error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestResolveHTTPErrors(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		opts  Options
		setup func(h *fakeHub)
		want  []string
	}{
		{"unknown repository", "org/other", Options{}, nil, []string{"org/other", "repository not found", "404"}},
		{"unknown revision", "org/tiny", Options{Revision: "v9"}, nil, []string{`revision "v9" not found`}},
		{"missing file", "org/tiny", Options{Patterns: []string{"ghost.json"}}, func(h *fakeHub) { h.ghosts["ghost.json"] = true }, []string{"ghost.json", "file not found"}},
		{"gated repository", "org/tiny", Options{}, func(h *fakeHub) { h.denied = true }, []string{"access denied", "403", "HF_TOKEN"}},
		{"no matching file", "org/tiny", Options{Patterns: []string{"*.gguf"}}, nil, []string{"no file matching", "*.gguf"}},
		{"model id of a dataset", "org/tiny", Options{RepoType: RepoDataset}, nil, []string{"dataset org/tiny", "repository not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			hub := newFakeHub(t, "models", "org/tiny", modelFiles())
			if tt.setup != nil {
				tt.setup(hub)
			}
			tt.opts.Endpoint = hub.hub.URL
			tt.opts.CacheDir = t.TempDir()

			_, err := Resolve(context.Background(), tt.id, tt.opts)
			if err == nil {
				t.Fatalf("want an error, got none")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: want it to contain %q, got %q", w, err)
				}
			}
		})
	}
}

func TestResolveOffline(t *testing.T) {
	isolate(t)
	hub := newFakeHub(t, "models", "org/tiny", modelFiles())
	cache := t.TempDir()

	_, err := Resolve(context.Background(), "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache, Offline: true})
	for _, w := range []string{"offline", "org/tiny", "not in the cache", "huggingface-cli download org/tiny"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("offline with an empty cache: want an error containing %q, got %v", w, err)
		}
	}

	online := resolveOK(t, "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"*.json"}})
	before := hub.requestCount()

	t.Setenv("HF_HUB_OFFLINE", "1")
	got := resolveOK(t, "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"*.json"}, Update: true})
	if got != online {
		t.Errorf("offline with cached files: want %s, got %s", online, got)
	}

	_, err = Resolve(context.Background(), "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"*.json", "*.safetensors"}})
	for _, w := range []string{"offline", `"*.safetensors"`, "HF_HUB_OFFLINE"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("offline with a partial cache: want an error containing %q, got %v", w, err)
		}
	}
	if n := hub.requestCount() - before; n != 0 {
		t.Errorf("offline: want no requests, got %d: %v", n, hub.log()[before:])
	}
}

func TestResolveUnreachableHub(t *testing.T) {
	isolate(t)
	hub := newFakeHub(t, "models", "org/tiny", modelFiles())
	cache := t.TempDir()
	resolveOK(t, "org/tiny", Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"*.json"}})
	endpoint := hub.hub.URL
	hub.hub.Close()

	resolveOK(t, "org/tiny", Options{Endpoint: endpoint, CacheDir: cache, Patterns: []string{"*.json"}, Update: true})

	_, err := Resolve(context.Background(), "org/tiny", Options{Endpoint: endpoint, CacheDir: cache, Patterns: []string{"*.safetensors"}})
	if err == nil || !strings.Contains(err.Error(), "reach the Hub") || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Errorf("unreachable Hub with a partial cache: want a reach the Hub error, got %v", err)
	}
}

func TestResolveDataset(t *testing.T) {
	isolate(t)
	files := map[string][]byte{
		"README.md":                            []byte("---\nlicense: odc-by\n---\n"),
		"data/filtered-00000-of-00001.parquet": []byte("PAR1 filtered PAR1"),
		"data/raw-00000-of-00001.parquet":      []byte("PAR1 raw PAR1"),
	}
	hub := newFakeHub(t, "datasets", "allenai/reward-bench", files)
	cache := t.TempDir()

	dir := resolveOK(t, "allenai/reward-bench", Options{
		RepoType: RepoDataset, Endpoint: hub.hub.URL, CacheDir: cache,
		Patterns: []string{"data/filtered-*.parquet"},
	})

	if want := filepath.Join(cache, "datasets--allenai--reward-bench", "snapshots", hub.commit); dir != want {
		t.Errorf("snapshot folder: want %s, got %s", want, dir)
	}
	local := filepath.Join(dir, "data", "filtered-00000-of-00001.parquet")
	got, err := os.ReadFile(local)
	if err != nil || string(got) != "PAR1 filtered PAR1" {
		t.Errorf("parquet file: want the served bytes, got %q (err %v)", got, err)
	}
	link, _ := os.Readlink(local)
	if want := filepath.Join("..", "..", "..", "blobs", sha256Hex(files["data/filtered-00000-of-00001.parquet"])); link != want {
		t.Errorf("nested symlink: want %s, got %s", want, link)
	}
	if _, err := os.Lstat(filepath.Join(dir, "data", "raw-00000-of-00001.parquet")); err == nil {
		t.Errorf("raw split: want it skipped by the pattern, but it was downloaded")
	}
	if !contains(hub.log(), "HUB GET /api/datasets/allenai/reward-bench/revision/main") {
		t.Errorf("want the dataset API path, got %v", hub.log())
	}
}

// TestResolveHandMadeCache lays out a cache the way huggingface_hub does
// and checks that it is found with no network at all.
func TestResolveHandMadeCache(t *testing.T) {
	isolate(t)
	cache := t.TempDir()
	commit := strings.Repeat("0123456789", 4)
	repo := filepath.Join(cache, "models--HuggingFaceTB--SmolLM2-135M-Instruct")
	config := []byte(`{"model_type":"llama"}`)
	etag := gitBlobID(config)

	mustWrite(t, filepath.Join(repo, "refs", "main"), []byte(commit))
	mustWrite(t, filepath.Join(repo, "blobs", etag), config)
	snapshot := filepath.Join(repo, "snapshots", commit)
	if err := os.MkdirAll(snapshot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "blobs", etag), filepath.Join(snapshot, "config.json")); err != nil {
		t.Fatal(err)
	}

	// A closed server: any request would fail the resolution.
	hub := newFakeHub(t, "models", "x/y", nil)
	hub.hub.Close()
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_ENDPOINT", hub.hub.URL)

	tests := []struct {
		name string
		opts Options
	}{
		{"main branch", Options{}},
		{"commit hash", Options{Revision: commit}},
		{"matching pattern", Options{Patterns: []string{"config.json"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := resolveOK(t, "HuggingFaceTB/SmolLM2-135M-Instruct", tt.opts)
			if dir != snapshot {
				t.Errorf("want %s, got %s", snapshot, dir)
			}
		})
	}
}

func TestResolveArguments(t *testing.T) {
	isolate(t)
	folder := t.TempDir()
	file := filepath.Join(folder, "config.json")
	mustWrite(t, file, []byte("{}"))

	if got := resolveOK(t, folder, Options{Offline: true}); got != folder {
		t.Errorf("existing folder: want %s returned as is, got %s", folder, got)
	}

	tests := []struct {
		arg  string
		want string
	}{
		{filepath.Join(folder, "absent"), "no such folder"},
		{"./models/tiny", "no such folder"},
		{"models/org/tiny", "no such folder"},
		{"~/models", "no such folder"},
		{"tiny", "neither a folder nor a Hugging Face Hub id"},
		{"org/bad name", "neither a folder nor a Hugging Face Hub id"},
		{"org--x/name", "neither a folder nor a Hugging Face Hub id"},
		{file, "is a file"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			_, err := Resolve(context.Background(), tt.arg, Options{Offline: true, CacheDir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("want an error containing %q, got %v", tt.want, err)
			}
		})
	}

	_, err := Resolve(context.Background(), "org/tiny", Options{RepoType: "space", Offline: true})
	if err == nil || !strings.Contains(err.Error(), `"space"`) {
		t.Errorf("invalid repository type: want an error naming it, got %v", err)
	}
}

func TestCompileGlob(t *testing.T) {
	tests := []struct {
		pattern string
		name    string
		want    bool
	}{
		{"*.json", "config.json", true},
		{"*.json", "sub/config.json", true}, // '*' crosses '/', as in fnmatch
		{"*.json", "config.jsonl", false},
		{"data/filtered-*.parquet", "data/filtered-00000-of-00001.parquet", true},
		{"data/filtered-*.parquet", "data/raw-00000-of-00001.parquet", false},
		{"model-0000?-of-00002.safetensors", "model-00001-of-00002.safetensors", true},
		{"model-[0-9]*.safetensors", "model-1.safetensors", true},
		{"model-[!0-9]*.safetensors", "model-1.safetensors", false},
		{"model-[!0-9]*.safetensors", "model-x.safetensors", true},
		{"onnx/", "onnx/model.onnx", true},
		{"a+b(c).json", "a+b(c).json", true},
		{"[abc", "[abc", true},
		{"config.json", "xconfig.json", false},
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.pattern)
		if err != nil {
			t.Errorf("compileGlob(%q): %v", tt.pattern, err)
			continue
		}
		if got := re.MatchString(tt.name); got != tt.want {
			t.Errorf("pattern %q on %q: want %v, got %v", tt.pattern, tt.name, tt.want, got)
		}
	}
}

func TestDefaultCacheDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"HF_HUB_CACHE first", map[string]string{"HF_HUB_CACHE": "/c/hub", "HF_HOME": "/h"}, "/c/hub"},
		{"HF_HOME", map[string]string{"HF_HOME": "/h"}, "/h/hub"},
		{"XDG cache", map[string]string{"XDG_CACHE_HOME": "/x"}, "/x/huggingface/hub"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.cache/huggingface/hub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"} {
				t.Setenv(name, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := DefaultCacheDir()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DefaultCacheDir (-want +got):\n%s", diff)
			}
		})
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestResolveRecoversFromCorruptPartial(t *testing.T) {
	isolate(t)
	files := modelFiles()
	hub := newFakeHub(t, "models", "org/tiny", files)
	cache := t.TempDir()
	opts := Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"model.safetensors"}}

	weights := files["model.safetensors"]
	partial := filepath.Join(cache, "models--org--tiny", "blobs", sha256Hex(weights)+".incomplete")
	mustWrite(t, partial, bytes.Repeat([]byte{0x55}, 1000))

	_, err := Resolve(context.Background(), "org/tiny", opts)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("resume onto a corrupt partial file: want a checksum mismatch, got %v", err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("want the corrupt partial file deleted, stat error %v", err)
	}

	dir := resolveOK(t, "org/tiny", opts)
	got, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(got, weights) {
		t.Errorf("second attempt: want the served bytes, got %d bytes (err %v)", len(got), err)
	}
}

func TestStalledDownloadResumes(t *testing.T) {
	isolate(t)
	files := modelFiles()
	hub := newFakeHub(t, "models", "org/tiny", files)
	hub.stallAt = 100_000
	cache := t.TempDir()
	opts := Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"model.safetensors"}}

	r, err := newResolver("org/tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	r.stallTimeout = 300 * time.Millisecond
	_, err = r.resolve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no data received") || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("stalled download: want a no data received error, got %v", err)
	}

	weights := files["model.safetensors"]
	partial := filepath.Join(cache, "models--org--tiny", "blobs", sha256Hex(weights)+".incomplete")
	if st, err := os.Stat(partial); err != nil || st.Size() != int64(hub.stallAt) {
		t.Fatalf("partial file: want %d bytes kept for the resume, got %v (err %v)", hub.stallAt, st, err)
	}

	dir := resolveOK(t, "org/tiny", opts)
	got, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(got, weights) {
		t.Errorf("resumed download: want the served bytes, got %d bytes (err %v)", len(got), err)
	}
	wantRange := "CDN GET /blobs/" + sha256Hex(weights) + " bytes=" + strconv.Itoa(hub.stallAt) + "-"
	if !contains(hub.log(), wantRange) {
		t.Errorf("want a ranged request %q, got %v", wantRange, hub.log())
	}
}

func TestResolveRemembersAbsentFiles(t *testing.T) {
	isolate(t)
	files := modelFiles()
	delete(files, "generation_config.json")
	hub := newFakeHub(t, "models", "org/tiny", files)
	cache := t.TempDir()
	opts := Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"config.json", "generation_config.json", "*.safetensors", "*.jinja"}}

	dir := resolveOK(t, "org/tiny", opts)
	marker := filepath.Join(cache, "models--org--tiny", ".no_exist", hub.commit, "generation_config.json")
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("want a .no_exist marker for generation_config.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(marker), "*.jinja")); err != nil {
		t.Errorf("want a .no_exist marker for the glob *.jinja: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(marker), "config.json")); err == nil {
		t.Errorf("want no marker for config.json, which exists")
	}

	before := hub.requestCount()
	if got := resolveOK(t, "org/tiny", opts); got != dir {
		t.Errorf("second Resolve: want %s, got %s", dir, got)
	}
	opts.Offline = true
	resolveOK(t, "org/tiny", opts)
	if n := hub.requestCount() - before; n != 0 {
		t.Errorf("want no requests once the absent file is recorded, got %d: %v", n, hub.log()[before:])
	}
}

func TestConcurrentResolvesKeepFilesReadable(t *testing.T) {
	isolate(t)
	files := modelFiles()
	hub := newFakeHub(t, "models", "org/tiny", files)
	cache := t.TempDir()
	opts := Options{Endpoint: hub.hub.URL, CacheDir: cache, Patterns: []string{"*.json", "*.safetensors"}}

	// Several resolvers of one repository race; each must find every file
	// in place when it returns, even while the others relink them.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, err := Resolve(context.Background(), "org/tiny", opts)
			if err != nil {
				errs <- err
				return
			}
			for name, want := range files {
				if !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".safetensors") {
					continue
				}
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					errs <- err
					return
				}
				if string(got) != string(want) {
					errs <- fmt.Errorf("%s: wrong contents", name)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
