package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub serves one repository on loopback in the shape of the Hugging
// Face Hub. It has the revision API with its file list, and resolve URLs
// with ETag and X-Repo-Commit. For LFS files, resolve adds X-Linked-Etag and
// X-Linked-Size and redirects to a separate CDN server that honours Range.
type fakeHub struct {
	kind   string // "models" or "datasets"
	id     string
	commit string
	files  map[string][]byte

	renamed string          // an old id that redirects to id, as after a rename
	token   string          // when set, requests must carry it
	denied  bool            // reply 403, as for a gated repository
	corrupt map[string]bool // LFS files whose CDN bytes differ from their sha256
	ghosts  map[string]bool // listed files whose resolve URL returns 404
	stallAt int             // when > 0, the CDN sends this many bytes of a full download, then hangs

	hub, cdn *httptest.Server

	mu       sync.Mutex
	requests []string // "HUB|CDN METHOD PATH [Range]"
	cdnAuth  []string // Authorization headers seen by the CDN
}

func newFakeHub(t *testing.T, kind, id string, files map[string][]byte) *fakeHub {
	t.Helper()
	f := &fakeHub{
		kind:    kind,
		id:      id,
		commit:  strings.Repeat("ab12", 10),
		files:   files,
		corrupt: map[string]bool{},
		ghosts:  map[string]bool{},
	}
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	t.Cleanup(f.hub.Close)
	t.Cleanup(f.cdn.Close)
	return f
}

// isLFS reports whether the fake stores file in LFS, as the Hub does for
// weights and data files.
func isLFS(file string) bool {
	return strings.HasSuffix(file, ".safetensors") || strings.HasSuffix(file, ".parquet")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// gitBlobID is the git object id of a blob, the ETag the Hub sends for
// files stored in git.
func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (f *fakeHub) record(server string, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	entry := server + " " + r.Method + " " + r.URL.Path
	if rg := r.Header.Get("Range"); rg != "" {
		entry += " " + rg
	}
	f.requests = append(f.requests, entry)
	if server == "CDN" {
		f.cdnAuth = append(f.cdnAuth, r.Header.Get("Authorization"))
	}
}

// requestCount returns how many requests both servers have received.
func (f *fakeHub) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeHub) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.record("HUB", r)

	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Invalid credentials", http.StatusUnauthorized)
		return
	}
	if f.denied {
		w.Header().Set("X-Error-Code", "GatedRepo")
		http.Error(w, "Access to this repository is restricted", http.StatusForbidden)
		return
	}

	if f.renamed != "" && strings.Contains(r.URL.Path, "/"+f.renamed+"/") {
		http.Redirect(w, r, strings.Replace(r.URL.Path, "/"+f.renamed+"/", "/"+f.id+"/", 1), http.StatusTemporaryRedirect)
		return
	}

	repoPrefix := "/" + f.id + "/"
	apiPrefix := "/api/" + f.kind + "/" + f.id + "/revision/"
	if f.kind == "datasets" {
		repoPrefix = "/datasets/" + f.id + "/"
	}

	switch {
	case strings.HasPrefix(r.URL.Path, apiPrefix):
		f.serveInfo(w, strings.TrimPrefix(r.URL.Path, apiPrefix))
	case strings.HasPrefix(r.URL.Path, repoPrefix+"resolve/"):
		f.serveResolve(w, r, strings.TrimPrefix(r.URL.Path, repoPrefix+"resolve/"))
	default:
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
	}
}

func (f *fakeHub) knownRevision(rev string) bool {
	return rev == "main" || rev == f.commit
}

func (f *fakeHub) serveInfo(w http.ResponseWriter, rev string) {
	if !f.knownRevision(rev) {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id", http.StatusNotFound)
		return
	}

	type sibling struct {
		Name string `json:"rfilename"`
	}
	var siblings []sibling
	for name := range f.files {
		siblings = append(siblings, sibling{name})
	}
	for name := range f.ghosts {
		siblings = append(siblings, sibling{name})
	}
	sort.Slice(siblings, func(i, j int) bool { return siblings[i].Name < siblings[j].Name })
	json.NewEncoder(w).Encode(map[string]any{"id": f.id, "sha": f.commit, "siblings": siblings})
}

func (f *fakeHub) serveResolve(w http.ResponseWriter, r *http.Request, rest string) {
	rev, file, ok := strings.Cut(rest, "/")
	if !ok || !f.knownRevision(rev) {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id", http.StatusNotFound)
		return
	}
	content, ok := f.files[file]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}

	w.Header().Set("X-Repo-Commit", f.commit)
	if isLFS(file) {
		sum := sha256Hex(content)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(content)))
		w.Header().Set("ETag", `"`+gitBlobID([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:"+sum))+`"`)
		http.Redirect(w, r, f.cdn.URL+"/blobs/"+sum, http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitBlobID(content)+`"`)
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(content))
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.record("CDN", r)
	sum := strings.TrimPrefix(r.URL.Path, "/blobs/")
	for name, content := range f.files {
		if sha256Hex(content) != sum {
			continue
		}
		if f.corrupt[name] {
			content = bytes.Repeat([]byte{0xEE}, len(content))
		}
		if f.stallAt > 0 && r.Header.Get("Range") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.Write(content[:f.stallAt])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(content))
		return
	}
	http.NotFound(w, r)
}
