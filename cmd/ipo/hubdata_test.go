package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"ipo/internal/dataset"
	"ipo/internal/testutil"
)

// rewardBenchRow is a row of RewardBench's Parquet files.
type rewardBenchRow struct {
	Prompt        string `parquet:"prompt"`
	Chosen        string `parquet:"chosen"`
	ChosenModel   string `parquet:"chosen_model"`
	Rejected      string `parquet:"rejected"`
	RejectedModel string `parquet:"rejected_model"`
	Subset        string `parquet:"subset"`
	ID            int64  `parquet:"id"`
}

// serveDataset serves one dataset repository on loopback the way the
// Hugging Face Hub does: the revision API with its file list, and resolve
// URLs with the commit, the sha256 of LFS files and Range support.
func serveDataset(t *testing.T, id string, files map[string][]byte) *httptest.Server {
	t.Helper()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/datasets/"+id+"/revision/main" {
			var siblings []map[string]string
			for name := range files {
				siblings = append(siblings, map[string]string{"rfilename": name})
			}
			json.NewEncoder(w).Encode(map[string]any{"sha": commit, "siblings": siblings})
			return
		}
		// resolve/REVISION/FILE, where REVISION is a branch or the commit.
		rest, ok := strings.CutPrefix(r.URL.Path, "/datasets/"+id+"/resolve/")
		_, name, _ := strings.Cut(rest, "/")
		content, found := files[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(content)
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(content)))
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(content))
	}))
	t.Cleanup(server.Close)
	return server
}

func TestBenchRewardBenchFromHubDataset(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K")
	rows, err := dataset.Read(testutil.Shared(t, "data/rewardbench/filtered-first500.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var table []rewardBenchRow
	for i, row := range rows[:5] {
		r := rewardBenchRow{ID: int64(i)}
		r.Prompt, _ = row.String("prompt")
		r.Chosen, _ = row.String("chosen")
		r.Rejected, _ = row.String("rejected")
		r.Subset, _ = row.String("subset")
		table = append(table, r)
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, table); err != nil {
		t.Fatal(err)
	}
	// The raw split sits beside the filtered one and must not be read.
	server := serveDataset(t, "org/reward-bench", map[string][]byte{
		"data/filtered-00000-of-00001.parquet": buf.Bytes(),
		"data/raw-00000-of-00001.parquet":      []byte("not parquet"),
		"README.md":                            []byte("# card"),
	})
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", server.URL)
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_TOKEN", "")

	out := filepath.Join(t.TempDir(), "out")
	code, stdout, errOut := run(t, "", "bench", "rewardbench", "--model", model, "--data", "org/reward-bench", "--out", out, "--max-length", "256")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "pairs 5,") {
		t.Errorf("table does not report 5 pairs:\n%s", stdout)
	}
	if scores := readScores(t, filepath.Join(out, "scores.jsonl")); len(scores) != 10 {
		t.Errorf("scores.jsonl has %d records, want 10", len(scores))
	}
	snapshot := filepath.Join(cache, "datasets--org--reward-bench", "snapshots")
	if matches, _ := filepath.Glob(filepath.Join(snapshot, "*", "data", "filtered-*.parquet")); len(matches) != 1 {
		t.Errorf("the cache holds %v, want the filtered Parquet file in the Hugging Face layout", matches)
	}

	// Offline, the cached copy is used without the server.
	server.Close()
	t.Setenv("HF_HUB_OFFLINE", "1")
	code, _, errOut = run(t, "", "bench", "rewardbench", "--model", model, "--data", "org/reward-bench", "--out", out, "--max-length", "256")
	if code != 0 {
		t.Errorf("offline rerun: exit %d: %s", code, errOut)
	}
}
