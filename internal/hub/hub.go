// Package hub resolves a model or dataset argument to a local folder. An
// existing folder is used as is. A Hugging Face Hub id ("ORG/NAME") is found
// in, or downloaded into, the cache layout that Python's huggingface_hub
// uses, so that ipo and the Python tools reuse each other's downloads.
//
// The cache of one repository looks like this:
//
//	<cache>/models--ORG--NAME/            (datasets--ORG--NAME for datasets)
//	    refs/main                          the commit hash that "main" points at
//	    blobs/<etag>                       file contents, named by ETag: the
//	                                       sha256 of LFS files, the git blob id
//	                                       of the others
//	    snapshots/<commit>/<file>          relative symlinks into blobs
//	    .no_exist/<commit>/<pattern>       empty markers of wanted files or
//	                                       globs that the commit lacks
//
// Downloads stream into blobs/<etag>.incomplete, resume it with an HTTP
// Range request, check the size and, for LFS files, the sha256, and then
// rename it into place and link the snapshot file. A per-blob lock file under
// <cache>/.locks keeps concurrent downloads of one blob apart.
//
// A cached snapshot that has every wanted file is used without any request,
// so a moved branch is noticed only with Options.Update. This differs from
// huggingface_hub, which requests the branch's commit on every call.
package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Repository types.
const (
	RepoModel   = "model"
	RepoDataset = "dataset"
)

// DefaultEndpoint is the Hub used when neither Options.Endpoint nor
// HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// Options configures Resolve. The zero value resolves a model at revision
// "main" with the settings from the environment.
type Options struct {
	RepoType string   // "model" (default) or "dataset"
	Revision string   // branch, tag or commit hash; default "main"
	Patterns []string // glob patterns of wanted files, e.g. "*.json"; '*' also matches '/'; empty means all files
	Endpoint string   // default $HF_ENDPOINT, else https://huggingface.co
	Token    string   // default $HF_TOKEN, else the token file under $HF_HOME
	CacheDir string   // default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
	Offline  bool     // never touch the network; also set by HF_HUB_OFFLINE=1

	// Update requests the current commit of Revision from the Hub even when the
	// cached snapshot already has every wanted file. Without it, a complete
	// cached snapshot is used with no request at all.
	Update bool

	// Progress, when set, receives byte counts of each file download. Files
	// download in parallel, so it may run on several goroutines at once.
	// total is -1 when the size is unknown.
	Progress func(file string, done, total int64)

	Client *http.Client // optional; the default waits at most 60 s for response headers and has no overall timeout
}

// defaultStallTimeout bounds the wait for the next bytes of a download. A
// slow but moving transfer never hits it.
const defaultStallTimeout = 2 * time.Minute

// repoIDPattern matches ORG/NAME with the characters the Hub allows.
var repoIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)

// commitPattern matches a full git commit hash.
var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Resolve returns a local folder for a model or dataset argument. An
// existing folder is returned as is. Otherwise arg must be a Hub id
// "ORG/NAME": its snapshot folder in the cache is returned, after the
// missing files matching opts.Patterns are downloaded unless offline.
func Resolve(ctx context.Context, arg string, opts Options) (string, error) {
	if st, err := os.Stat(arg); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("%s is a file; pass the folder that contains it", arg)
		}
		return arg, nil
	}

	if !repoIDPattern.MatchString(arg) || strings.Contains(arg, "--") || strings.Contains(arg, "..") {
		if looksLikePath(arg) {
			return "", fmt.Errorf("no such folder %s", arg)
		}
		return "", fmt.Errorf("%q is neither a folder nor a Hugging Face Hub id of the form ORG/NAME (for example HuggingFaceTB/SmolLM2-135M-Instruct)", arg)
	}

	r, err := newResolver(arg, opts)
	if err != nil {
		return "", err
	}
	return r.resolve(ctx)
}

// looksLikePath reports whether arg reads as a file-system path rather
// than a Hub id.
func looksLikePath(arg string) bool {
	return filepath.IsAbs(arg) ||
		strings.HasPrefix(arg, ".") ||
		strings.HasPrefix(arg, "~") ||
		strings.HasSuffix(arg, "/") ||
		strings.Count(arg, "/") > 1 ||
		strings.ContainsRune(arg, os.PathSeparator) && os.PathSeparator != '/'
}

// resolver carries the settled options for one repository.
type resolver struct {
	id          string
	kind        string // RepoModel or RepoDataset
	revision    string
	patterns    []*regexp.Regexp
	patternText []string
	endpoint    string
	token       string
	cache       string
	offline     bool
	update      bool
	progress    func(string, int64, int64)
	client      *http.Client

	stallTimeout time.Duration // a download with no data for this long fails
}

func newResolver(id string, opts Options) (*resolver, error) {
	r := &resolver{
		id:          id,
		kind:        opts.RepoType,
		revision:    opts.Revision,
		patternText: opts.Patterns,
		endpoint:    opts.Endpoint,
		token:       opts.Token,
		cache:       opts.CacheDir,
		offline:     opts.Offline || envTrue("HF_HUB_OFFLINE"),
		update:      opts.Update,
		progress:    opts.Progress,
		client:      opts.Client,

		stallTimeout: defaultStallTimeout,
	}

	switch r.kind {
	case "":
		r.kind = RepoModel
	case RepoModel, RepoDataset:
	default:
		return nil, fmt.Errorf("invalid repository type %q: use %q or %q", opts.RepoType, RepoModel, RepoDataset)
	}
	if r.revision == "" {
		r.revision = "main"
	}
	if strings.Contains(r.revision, "..") {
		return nil, fmt.Errorf("invalid revision %q", r.revision)
	}

	for _, p := range opts.Patterns {
		re, err := compileGlob(p)
		if err != nil {
			return nil, err
		}
		r.patterns = append(r.patterns, re)
	}

	if r.endpoint == "" {
		r.endpoint = os.Getenv("HF_ENDPOINT")
	}
	if r.endpoint == "" {
		r.endpoint = DefaultEndpoint
	}
	r.endpoint = strings.TrimRight(r.endpoint, "/")

	if r.token == "" {
		r.token = defaultToken()
	}

	if r.cache == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		r.cache = dir
	}

	if r.client == nil {
		r.client = defaultClient()
	}
	return r, nil
}

// DefaultCacheDir returns the hub cache folder that huggingface_hub uses:
// $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
func DefaultCacheDir() (string, error) {
	for _, name := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if v := os.Getenv(name); v != "" {
			return expandHome(v), nil
		}
	}
	home, err := hfHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "hub"), nil
}

// hfHome returns $HF_HOME, else $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface.
func hfHome() (string, error) {
	if v := os.Getenv("HF_HOME"); v != "" {
		return expandHome(v), nil
	}
	if v := os.Getenv("XDG_CACHE_HOME"); v != "" {
		return filepath.Join(v, "huggingface"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the Hugging Face cache: %w; set HF_HOME or HF_HUB_CACHE", err)
	}
	return filepath.Join(home, ".cache", "huggingface"), nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// defaultToken returns $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN, else the
// contents of $HF_TOKEN_PATH or $HF_HOME/token, else "".
func defaultToken() string {
	for _, name := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			return v
		}
	}
	path := os.Getenv("HF_TOKEN_PATH")
	if path == "" {
		home, err := hfHome()
		if err != nil {
			return ""
		}
		path = filepath.Join(home, "token")
	}
	b, err := os.ReadFile(expandHome(path))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// envTrue reports whether the environment variable name is set to 1, ON,
// YES or TRUE, in any case, as huggingface_hub reads its boolean settings.
func envTrue(name string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(name))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func defaultClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: transport}
}

// resolve finds or completes the cached snapshot of r.id.
func (r *resolver) resolve(ctx context.Context) (string, error) {
	snapshot, missing, cacheErr := r.cachedSnapshot()
	complete := cacheErr == nil && len(missing) == 0
	if complete && (!r.update || r.offline) {
		return snapshot, nil
	}

	if r.offline {
		return "", r.offlineError(cacheErr, missing)
	}

	info, err := r.repoInfo(ctx)
	if err != nil {
		var netErr *networkError
		if errors.As(err, &netErr) && complete {
			// The Hub is unreachable but the cache is complete: use it, as
			// huggingface_hub does.
			return snapshot, nil
		}
		return "", err
	}
	return r.download(ctx, info)
}

// offlineError explains which files are missing while offline and how to
// fetch them.
func (r *resolver) offlineError(cacheErr error, missing []string) error {
	fix := fmt.Sprintf("run once with network access and HF_HUB_OFFLINE unset, or fetch them with `huggingface-cli download %s`", r.id)
	if r.kind == RepoDataset {
		fix = fmt.Sprintf("run once with network access and HF_HUB_OFFLINE unset, or fetch them with `huggingface-cli download --repo-type dataset %s`", r.id)
	}
	if cacheErr != nil {
		return fmt.Errorf("offline mode: %s %s at revision %q is not in the cache: %v; %s", r.kind, r.id, r.revision, cacheErr, fix)
	}
	return fmt.Errorf("offline mode: the cached snapshot of %s %s at revision %q lacks %s; %s",
		r.kind, r.id, r.revision, strings.Join(missing, ", "), fix)
}
