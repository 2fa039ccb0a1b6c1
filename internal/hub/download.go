package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// networkError marks a failure to reach the Hub at all, as opposed to an
// HTTP error status.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// repoInfo is the part of the Hub's repository API response that Resolve
// reads: the commit of the revision and the repository's file names.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		Name string `json:"rfilename"`
	} `json:"siblings"`
}

// fileMeta is the metadata of a file from a HEAD request on its resolve URL.
type fileMeta struct {
	etag   string // normalized: no W/ prefix, no quotes
	size   int64  // -1 when unknown
	lfs    bool   // the etag is the sha256 of the contents
	commit string
}

// urlPrefix returns the endpoint path of the repository: /ORG/NAME for a
// model, /datasets/ORG/NAME for a dataset.
func (r *resolver) urlPrefix() string {
	if r.kind == RepoDataset {
		return r.endpoint + "/datasets/" + r.id
	}
	return r.endpoint + "/" + r.id
}

func (r *resolver) resolveURL(revision, file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return r.urlPrefix() + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(parts, "/")
}

func (r *resolver) newRequest(ctx context.Context, method, target string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", target, err)
	}
	req.Header.Set("User-Agent", "ipo")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	return req, nil
}

// do sends req and wraps transport failures as networkError.
func (r *resolver) do(client *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &networkError{fmt.Errorf("reach the Hub at %s: %w (set HF_HUB_OFFLINE=1 to use only the cache)", r.endpoint, err)}
	}
	return resp, nil
}

// repoInfo fetches from the Hub API the commit and file list of r.revision.
func (r *resolver) repoInfo(ctx context.Context) (*repoInfo, error) {
	target := fmt.Sprintf("%s/api/%ss/%s/revision/%s", r.endpoint, r.kind, r.id, url.PathEscape(r.revision))
	req, err := r.newRequest(ctx, http.MethodGet, target)
	if err != nil {
		return nil, err
	}
	resp, err := r.do(r.client, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return nil, r.statusError(resp, "")
	}
	var info repoInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return nil, fmt.Errorf("read the file list of %s %s from %s: invalid JSON: %w", r.kind, r.id, target, err)
	}
	if !commitPattern.MatchString(info.SHA) {
		return nil, fmt.Errorf("read the file list of %s %s from %s: missing or invalid commit hash %q", r.kind, r.id, target, info.SHA)
	}
	return &info, nil
}

// statusError turns an HTTP error status into an error that names the
// likely cause and the fix. file is "" for repository-level requests.
func (r *resolver) statusError(resp *http.Response, file string) error {
	subject := fmt.Sprintf("%s %s", r.kind, r.id)
	if file != "" {
		subject = fmt.Sprintf("file %s of %s %s", file, r.kind, r.id)
	}
	code := resp.Header.Get("X-Error-Code")
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: authentication required (HTTP 401): the repository is private, gated or does not exist; set HF_TOKEN to a token with read access", subject)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: access denied (HTTP 403): accept the repository's conditions on its Hub page and set HF_TOKEN to a token of that account", subject)
	case resp.StatusCode == http.StatusNotFound && code == "RevisionNotFound":
		return fmt.Errorf("%s: revision %q not found (HTTP 404)", subject, r.revision)
	case resp.StatusCode == http.StatusNotFound && (code == "EntryNotFound" || file != "" && code != "RepoNotFound"):
		return fmt.Errorf("%s: file not found at revision %q (HTTP 404)", subject, r.revision)
	case resp.StatusCode == http.StatusNotFound:
		hint := "check the id"
		if r.kind == RepoModel {
			hint += ", or set the repository type to dataset if it is a dataset"
		}
		return fmt.Errorf("%s: repository not found on %s (HTTP 404): %s", subject, r.endpoint, hint)
	}
	return fmt.Errorf("%s: request to %s failed: HTTP %s", subject, resp.Request.URL.Redacted(), resp.Status)
}

// download fetches the wanted files of info that the snapshot lacks.
func (r *resolver) download(ctx context.Context, info *repoInfo) (string, error) {
	if !commitPattern.MatchString(r.revision) && r.revision != info.SHA {
		if err := r.writeRef(info.SHA); err != nil {
			return "", err
		}
	}
	snapshot := filepath.Join(r.repoDir(), "snapshots", info.SHA)

	var files []string
	for _, s := range info.Siblings {
		if r.matchesPatterns(s.Name) {
			files = append(files, s.Name)
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("%s %s at revision %q has no file matching %q", r.kind, r.id, r.revision, r.rawPats)
	}

	var todo []string
	for _, file := range files {
		if !filepath.IsLocal(filepath.FromSlash(file)) {
			return "", fmt.Errorf("%s %s lists an invalid file name %q", r.kind, r.id, file)
		}
		if _, err := os.Stat(filepath.Join(snapshot, filepath.FromSlash(file))); err != nil {
			todo = append(todo, file)
		}
	}

	if err := r.fetchAll(ctx, info.SHA, snapshot, todo); err != nil {
		return "", err
	}
	return snapshot, nil
}

// maxParallelDownloads is the number of files fetched at once, the default
// max_workers of huggingface_hub's snapshot_download.
const maxParallelDownloads = 8

// fetchAll fetches files into snapshot, several at a time. The first error
// cancels the downloads still running, and their partial files stay for a
// later resume.
func (r *resolver) fetchAll(ctx context.Context, commit, snapshot string, files []string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	jobs := make(chan string)
	var wg sync.WaitGroup
	for range min(maxParallelDownloads, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for file := range jobs {
				local := filepath.Join(snapshot, filepath.FromSlash(file))
				if err := r.fetchFile(ctx, commit, file, local); err != nil {
					cancel(err)
				}
			}
		}()
	}

	for _, file := range files {
		if ctx.Err() != nil {
			break
		}
		jobs <- file
	}
	close(jobs)
	wg.Wait()

	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// writeRef records that r.revision points at commit, as refs/<revision>.
func (r *resolver) writeRef(commit string) error {
	ref := filepath.Join(r.repoDir(), "refs", filepath.FromSlash(r.revision))
	if b, err := os.ReadFile(ref); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
		return fmt.Errorf("write ref: %w", err)
	}
	tmp := ref + ".tmp"
	if err := os.WriteFile(tmp, []byte(commit), 0o644); err != nil {
		return fmt.Errorf("write ref: %w", err)
	}
	if err := os.Rename(tmp, ref); err != nil {
		return fmt.Errorf("write ref: %w", err)
	}
	return nil
}

// fetchFile makes sure the blob of file exists and links local to it.
func (r *resolver) fetchFile(ctx context.Context, commit, file, local string) error {
	target := r.resolveURL(commit, file)
	meta, err := r.head(ctx, target, file)
	if err != nil {
		return err
	}
	if meta.etag == "" || strings.ContainsAny(meta.etag, `/\`) || meta.etag == "." || meta.etag == ".." {
		return fmt.Errorf("file %s of %s %s: the server sent no usable ETag, so the file cannot be cached; is %s a Hugging Face Hub endpoint?", file, r.kind, r.id, r.endpoint)
	}

	blob := filepath.Join(r.repoDir(), "blobs", meta.etag)
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("create cache folder: %w", err)
	}

	unlock, err := r.lock(meta.etag)
	if err != nil {
		return err
	}
	defer unlock()

	if st, err := os.Stat(blob); err != nil || (meta.size >= 0 && st.Size() != meta.size) {
		if err := r.fetchBlob(ctx, target, file, blob, meta); err != nil {
			return err
		}
	}
	return linkSnapshot(blob, local)
}

// head reads the metadata of a file from its resolve URL. It follows
// redirects within the Hub (a renamed repository) but not to another host
// (the CDN), because the Hub puts the LFS headers on its own redirect.
func (r *resolver) head(ctx context.Context, target, file string) (*fileMeta, error) {
	client := *r.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for hops := 0; ; hops++ {
		req, err := r.newRequest(ctx, http.MethodHead, target)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := r.do(&client, req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()

		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := resp.Location()
			if err == nil && loc.Host == req.URL.Host && resp.Header.Get("X-Linked-Etag") == "" && hops < 5 {
				target = loc.String()
				continue
			}
		} else if resp.StatusCode != http.StatusOK {
			return nil, r.statusError(resp, file)
		}

		meta := &fileMeta{size: -1, commit: resp.Header.Get("X-Repo-Commit")}
		meta.etag = normalizeETag(resp.Header.Get("X-Linked-Etag"))
		meta.lfs = meta.etag != ""
		if !meta.lfs {
			meta.etag = normalizeETag(resp.Header.Get("ETag"))
		}
		size := resp.Header.Get("X-Linked-Size")
		if size == "" && resp.StatusCode == http.StatusOK {
			size = resp.Header.Get("Content-Length")
		}
		if n, err := strconv.ParseInt(size, 10, 64); err == nil && n >= 0 {
			meta.size = n
		}
		return meta, nil
	}
}

// downloadClient returns r.client with a redirect policy that drops the
// Authorization header when a redirect leaves the Hub's host and port, so
// the token never reaches the CDN. Go's own policy compares host names only.
func (r *resolver) downloadClient() *http.Client {
	client := *r.client
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return fmt.Errorf("stopped after %d redirects", len(via))
		}
		if req.URL.Host != via[0].URL.Host {
			req.Header.Del("Authorization")
		}
		return nil
	}
	return &client
}

// normalizeETag strips the weak-validator prefix and the quotes.
func normalizeETag(etag string) string {
	etag = strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	return strings.Trim(etag, `"`)
}

// lock takes the per-blob lock file that huggingface_hub also uses, so two
// processes never write one .incomplete file at once.
func (r *resolver) lock(etag string) (func(), error) {
	path := filepath.Join(r.cache, ".locks", r.repoFolder(), etag+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// fetchBlob downloads target into blob, resuming blob.incomplete, and
// checks the size and, for LFS files, the sha256 before the rename.
func (r *resolver) fetchBlob(ctx context.Context, target, file, blob string, meta *fileMeta) error {
	partial := blob + ".incomplete"
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("download %s: %w", file, err)
	}
	defer f.Close()

	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("download %s: %w", file, err)
	}
	if meta.size >= 0 && have > meta.size {
		have = 0
	}

	var sum hash.Hash
	if meta.lfs {
		sum = sha256.New()
	}
	if err := r.transfer(ctx, target, file, f, have, meta.size, sum); err != nil {
		return err
	}

	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("download %s: %w", file, err)
	}
	if meta.size >= 0 && st.Size() != meta.size {
		os.Remove(partial)
		return fmt.Errorf("download %s of %s %s: got %d bytes, want %d; the partial file was deleted, run again", file, r.kind, r.id, st.Size(), meta.size)
	}
	if sum != nil {
		if got := hex.EncodeToString(sum.Sum(nil)); got != strings.ToLower(meta.etag) {
			os.Remove(partial)
			return fmt.Errorf("download %s of %s %s: checksum mismatch: sha256 %s, want %s; the corrupt download was deleted, run again", file, r.kind, r.id, got, meta.etag)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("download %s: %w", file, err)
	}
	if err := os.Rename(partial, blob); err != nil {
		return fmt.Errorf("download %s: %w", file, err)
	}
	return nil
}

// transfer writes the bytes of target from offset have onward to f, which
// already holds have bytes, hashing all of them into sum when sum is set.
// A server that ignores the Range request makes it start over.
func (r *resolver) transfer(ctx context.Context, target, file string, f *os.File, have, size int64, sum hash.Hash) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := time.AfterFunc(r.stallTimeout, func() {
		cancel(fmt.Errorf("no data received for %s", r.stallTimeout))
	})
	defer stall.Stop()

	req, err := r.newRequest(ctx, http.MethodGet, target)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "identity")
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := r.do(r.downloadClient(), req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)) {
			return fmt.Errorf("download %s: the server answered the range request from byte %d with Content-Range %q", file, have, resp.Header.Get("Content-Range"))
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The partial file is already complete or is longer than the
		// file: start over without a range.
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download %s: %w", file, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("download %s: %w", file, err)
		}
		return r.transfer(parent, target, file, f, 0, size, sum)
	case resp.StatusCode == http.StatusOK:
		have = 0
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download %s: %w", file, err)
		}
	default:
		return r.statusError(resp, file)
	}

	if sum != nil && have > 0 {
		if _, err := io.Copy(sum, io.NewSectionReader(f, 0, have)); err != nil {
			return fmt.Errorf("download %s: hash the partial file: %w", file, err)
		}
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return fmt.Errorf("download %s: %w", file, err)
	}

	var w io.Writer = &stallWriter{w: f, timer: stall, timeout: r.stallTimeout}
	if sum != nil {
		w = io.MultiWriter(w, sum)
	}
	if r.progress != nil {
		w = &progressWriter{w: w, file: file, done: have, total: size, report: r.progress}
		r.progress(file, have, size)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return fmt.Errorf("download %s of %s %s: %w; run again to resume", file, r.kind, r.id, err)
	}
	return nil
}

// stallWriter pushes back a stall timer on every write, so a download is
// cancelled only when no data arrives for the whole timeout.
type stallWriter struct {
	w       io.Writer
	timer   *time.Timer
	timeout time.Duration
}

func (s *stallWriter) Write(b []byte) (int, error) {
	s.timer.Reset(s.timeout)
	return s.w.Write(b)
}

// progressWriter reports the running byte count after every write of at
// least 1 MiB since the last report, and at the end of each write that
// completes the file.
type progressWriter struct {
	w        io.Writer
	file     string
	done     int64
	reported int64
	total    int64
	report   func(string, int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.done-p.reported >= 1<<20 || p.done == p.total {
		p.reported = p.done
		p.report(p.file, p.done, p.total)
	}
	return n, err
}

// linkSnapshot points the snapshot file local at blob with a relative
// symlink, as huggingface_hub does, so the cache can be moved as a whole.
func linkSnapshot(blob, local string) error {
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return fmt.Errorf("create snapshot folder: %w", err)
	}
	rel, err := filepath.Rel(filepath.Dir(local), blob)
	if err != nil {
		return fmt.Errorf("link %s: %w", local, err)
	}
	if err := os.Remove(local); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace broken link %s: %w", local, err)
	}
	if err := os.Symlink(rel, local); err == nil {
		return nil
	}

	// Without symlink support, copy the blob, as huggingface_hub does.
	if err := copyFile(blob, local); err != nil {
		return fmt.Errorf("link or copy %s to %s: %w", blob, local, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()

	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
