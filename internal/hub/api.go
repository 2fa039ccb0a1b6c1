package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
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
	etag string // normalized: no W/ prefix, no quotes
	size int64  // -1 when unknown
	lfs  bool   // the etag is the sha256 of the contents, from X-Linked-Etag
}

// sha256Pattern matches the hex sha256 that the Hub sends as the ETag of
// LFS files.
var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

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
	case resp.StatusCode == http.StatusUnauthorized && r.token != "":
		return fmt.Errorf("%s: the token was rejected (HTTP 401): the repository is private, gated or does not exist, or the token in HF_TOKEN (or the token file) is invalid or expired", subject)
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: authentication required (HTTP 401): the repository is private, gated or does not exist; set HF_TOKEN to a token with read access", subject)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: access denied (HTTP 403): accept the repository's conditions on its Hub page and set HF_TOKEN to a token of that account", subject)
	case resp.StatusCode == http.StatusNotFound && code == "RevisionNotFound":
		return fmt.Errorf("%s: revision %q not found (HTTP 404)", subject, r.revision)
	case resp.StatusCode == http.StatusNotFound && (code == "EntryNotFound" || file != "" && code != "RepoNotFound"):
		return fmt.Errorf("%s: file not found at revision %q (HTTP 404)", subject, r.revision)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: repository not found on %s (HTTP 404): check the id, spelled ORG/NAME as on its Hub page", subject, r.endpoint)
	}
	return fmt.Errorf("%s: request to %s failed: HTTP %s", subject, resp.Request.URL.Redacted(), resp.Status)
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

		meta := &fileMeta{size: -1}
		meta.etag = normalizeETag(resp.Header.Get("X-Linked-Etag"))
		if meta.etag == "" {
			meta.etag = normalizeETag(resp.Header.Get("ETag"))
		} else {
			meta.lfs = sha256Pattern.MatchString(meta.etag)
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
// the token never reaches the CDN. Go's own policy would keep it for the
// same host name on another port and for subdomains such as a CDN host.
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
