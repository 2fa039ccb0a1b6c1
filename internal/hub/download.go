package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// download fetches the wanted files of info that the snapshot lacks.
func (r *resolver) download(ctx context.Context, info *repoInfo) (string, error) {
	if !commitPattern.MatchString(r.revision) && r.revision != info.SHA {
		if err := r.writeRef(info.SHA); err != nil {
			return "", err
		}
	}
	snapshot := filepath.Join(r.repoDir(), "snapshots", info.SHA)

	var files, listed []string
	for _, s := range info.Siblings {
		listed = append(listed, s.Name)
		if r.matchesPatterns(s.Name) {
			files = append(files, s.Name)
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("%s %s at revision %q has no file matching %q", r.kind, r.id, r.revision, r.patternText)
	}
	r.markAbsent(info.SHA, listed)

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
		if got := hex.EncodeToString(sum.Sum(nil)); got != meta.etag {
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
			return fmt.Errorf("download %s: invalid Content-Range %q in the response to a range request from byte %d", file, resp.Header.Get("Content-Range"), have)
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
