package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// repoFolder returns the cache folder name of a repository, for example
// "models--ORG--NAME".
func (r *resolver) repoFolder() string {
	return r.kind + "s--" + strings.ReplaceAll(r.id, "/", "--")
}

func (r *resolver) repoDir() string {
	return filepath.Join(r.cache, r.repoFolder())
}

// cachedCommit returns the commit that r.revision names in the cache: the
// revision itself when it is a commit hash, else the contents of its refs
// file.
func (r *resolver) cachedCommit() (string, error) {
	if commitPattern.MatchString(r.revision) {
		return r.revision, nil
	}
	ref := filepath.Join(r.repoDir(), "refs", filepath.FromSlash(r.revision))
	b, err := os.ReadFile(ref)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("no ref file %s", ref)
		}
		return "", err
	}
	commit := strings.TrimSpace(string(b))
	if !commitPattern.MatchString(commit) {
		return "", fmt.Errorf("ref file %s does not contain a commit hash", ref)
	}
	return commit, nil
}

// cachedSnapshot returns the cached snapshot folder of r.revision and what
// it lacks: patterns that match no file, shards named by an index file but
// absent, and links whose blob is gone. An error means there is no usable
// snapshot at all.
func (r *resolver) cachedSnapshot() (string, []string, error) {
	commit, err := r.cachedCommit()
	if err != nil {
		return "", nil, err
	}
	snapshot := filepath.Join(r.repoDir(), "snapshots", commit)
	if st, err := os.Stat(snapshot); err != nil || !st.IsDir() {
		return "", nil, fmt.Errorf("no snapshot folder %s", snapshot)
	}

	files, broken, err := listSnapshot(snapshot)
	if err != nil {
		return "", nil, err
	}

	var missing []string
	for _, f := range broken {
		missing = append(missing, f+" (its blob is missing)")
	}
	if len(r.patterns) == 0 && len(files) == 0 {
		missing = append(missing, "every file (the snapshot is empty)")
	}
	for i, re := range r.patterns {
		if !anyMatch(re, files) && !r.knownAbsent(commit, r.patternText[i]) {
			missing = append(missing, fmt.Sprintf("files matching %q", r.patternText[i]))
		}
	}
	missing = append(missing, missingShards(snapshot, files)...)
	return snapshot, missing, nil
}

// listSnapshot returns the slash-separated paths of the files under a
// snapshot folder and, separately, those whose symlink target is gone.
func listSnapshot(snapshot string) (files, broken []string, err error) {
	err = filepath.WalkDir(snapshot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(snapshot, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, err := os.Stat(path); err != nil {
			broken = append(broken, rel)
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot %s: %w", snapshot, err)
	}
	sort.Strings(files)
	return files, broken, nil
}

// missingShards returns the shards that the *.safetensors.index.json files
// of a snapshot name but that the snapshot lacks.
func missingShards(snapshot string, files []string) []string {
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}

	var missing []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".safetensors.index.json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(snapshot, filepath.FromSlash(f)))
		if err != nil {
			continue
		}
		var index struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if json.Unmarshal(b, &index) != nil {
			continue
		}

		dir := pathDir(f)
		seen := map[string]bool{}
		for _, shard := range index.WeightMap {
			p := dir + shard
			if !have[p] && !seen[p] {
				seen[p] = true
				missing = append(missing, p+" (listed in "+f+")")
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// pathDir returns the folder part of a slash-separated path with its
// trailing slash, or "" at the top level.
func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

func anyMatch(re *regexp.Regexp, files []string) bool {
	for _, f := range files {
		if re.MatchString(f) {
			return true
		}
	}
	return false
}

// matchesPatterns reports whether a repository file matches the patterns, or
// whether there are no patterns.
func (r *resolver) matchesPatterns(file string) bool {
	if len(r.patterns) == 0 {
		return true
	}
	for _, re := range r.patterns {
		if re.MatchString(file) {
			return true
		}
	}
	return false
}

// compileGlob turns a shell glob into a regular expression with the rules
// of Python's fnmatch, which huggingface_hub uses for allow_patterns: '*'
// matches any run of characters, '/' included, '?' one character, and
// [...] a character class, [!...] its complement. A pattern that ends in
// '/' matches everything under that folder.
func compileGlob(pattern string) (*regexp.Regexp, error) {
	if strings.HasSuffix(pattern, "/") {
		pattern += "*"
	}

	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : i+1+end]
			if end == 0 {
				// "[]...]": a ']' right after '[' is a literal member.
				next := strings.IndexByte(pattern[i+2:], ']')
				if next < 0 {
					b.WriteString(`\[`)
					continue
				}
				end = next + 1
				class = pattern[i+1 : i+1+end]
			}
			class = strings.ReplaceAll(class, `\`, `\\`)
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			} else if strings.HasPrefix(class, "^") {
				class = `\` + class
			}
			b.WriteString("[" + class + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)

	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("invalid file pattern %q: %w", pattern, err)
	}
	return re, nil
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
	tmp := tempName(ref)
	if err := os.WriteFile(tmp, []byte(commit), 0o644); err != nil {
		return fmt.Errorf("write ref: %w", err)
	}
	if err := os.Rename(tmp, ref); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write ref: %w", err)
	}
	return nil
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
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		unlockFile(f)
		f.Close()
	}, nil
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
	if target, err := os.Readlink(local); err == nil && target == rel {
		return nil
	}

	// The link is made under a temporary name and renamed over the old
	// one, so another process reading the snapshot at the same time never
	// finds the file missing.
	tmp := tempName(local)
	if err := os.Symlink(rel, tmp); err == nil {
		if err := os.Rename(tmp, local); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("link %s: %w", local, err)
		}
		return nil
	}

	// Without symlink support, copy the blob, as huggingface_hub does.
	if err := copyFile(blob, tmp); err != nil {
		return fmt.Errorf("link or copy %s to %s: %w", blob, local, err)
	}
	if err := os.Rename(tmp, local); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", blob, local, err)
	}
	return nil
}

// tempName returns a name beside path that no other writer, in this
// process or another, uses at the same time.
func tempName(path string) string {
	return fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), rand.Uint64())
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

// noExistPath returns the marker that records that no file of the
// repository at commit matches pattern. For a file name this is
// huggingface_hub's own .no_exist marker. A glob gets a marker of the same
// form, which huggingface_hub never looks up, so it is harmless there.
func (r *resolver) noExistPath(commit, pattern string) string {
	return filepath.Join(r.repoDir(), ".no_exist", commit, filepath.FromSlash(pattern))
}

// knownAbsent reports whether a marker records that no file matches
// pattern at commit, so that an optional file such as
// generation_config.json or *.jinja does not send every run to the Hub.
func (r *resolver) knownAbsent(commit, pattern string) bool {
	if !filepath.IsLocal(filepath.FromSlash(pattern)) {
		return false
	}
	_, err := os.Stat(r.noExistPath(commit, pattern))
	return err == nil
}

// markAbsent writes the markers for the patterns that match none of the
// listed files at commit. Markers only save requests, so one that cannot be
// written (a glob character in a Windows file name) is skipped.
func (r *resolver) markAbsent(commit string, listed []string) {
	for i, re := range r.patterns {
		p := r.patternText[i]
		if anyMatch(re, listed) || !filepath.IsLocal(filepath.FromSlash(p)) {
			continue
		}
		marker := r.noExistPath(commit, p)
		if os.MkdirAll(filepath.Dir(marker), 0o755) == nil {
			os.WriteFile(marker, nil, 0o644)
		}
	}
}
