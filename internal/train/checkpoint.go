package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"ipo/internal/peft"
	"ipo/internal/safetensors"
)

// File names inside a checkpoint folder, besides the PEFT adapter files.
const (
	OptimizerFile = "optimizer.safetensors"
	StateFile     = "training_state.json"
)

// checkpointPrefix starts the name of every checkpoint folder:
// checkpoint-<step>, as the Trainer names them.
const checkpointPrefix = "checkpoint-"

// ErrNoCheckpoint is returned by LatestCheckpoint when the output folder
// holds no complete checkpoint.
var ErrNoCheckpoint = errors.New("no complete checkpoint")

// State is the training position a checkpoint stores besides the adapter
// and the optimizer, enough to continue bit for bit.
type State struct {
	// Step is the number of optimizer steps taken.
	Step int `json:"step"`
	// Epoch is the current pass over the training data, from 0.
	Epoch int `json:"epoch"`
	// DataPosition is the number of examples of the current epoch's order
	// already consumed.
	DataPosition int `json:"data_position"`
	// RNG is the marshalled state of the run's random number generator
	// (for example math/rand/v2's PCG.MarshalBinary).
	RNG []byte `json:"rng"`
	// ConfigHash is ConfigHash of the run's configuration.
	ConfigHash string `json:"config_hash"`
	// Config is the configuration itself, to name what changed on resume.
	Config map[string]any `json:"config"`
}

// Checkpoint is the complete state of a training run after some step.
type Checkpoint struct {
	Adapter   *peft.Adapter
	Optimizer AdamWState
	State     State
}

// CheckpointDir returns the folder name of the checkpoint of step under
// outDir.
func CheckpointDir(outDir string, step int) string {
	return filepath.Join(outDir, checkpointPrefix+strconv.Itoa(step))
}

// SaveCheckpoint writes ck to outDir/checkpoint-<step> and returns that
// path. It writes a temporary folder and renames it into place, so a crash
// leaves either the complete checkpoint or a dot-named temporary folder that
// LatestCheckpoint ignores. An existing checkpoint of the same step is
// replaced.
func SaveCheckpoint(outDir string, ck *Checkpoint) (string, error) {
	if ck.Adapter == nil {
		return "", fmt.Errorf("save checkpoint: no adapter")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	final := CheckpointDir(outDir, ck.State.Step)
	tmp, err := os.MkdirTemp(outDir, ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()

	if err := ck.Adapter.Save(tmp); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	if err := writeOptimizer(filepath.Join(tmp, OptimizerFile), ck.Optimizer); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	state, err := json.MarshalIndent(ck.State, "", "  ")
	if err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(tmp, StateFile), append(state, '\n')); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}

	if err := replaceDir(tmp, final); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	committed = true
	syncDir(outDir)
	return final, nil
}

// replaceDir renames tmp to final, first moving an existing final aside
// and removing it afterwards.
func replaceDir(tmp, final string) error {
	if _, err := os.Stat(final); err == nil {
		old := filepath.Join(filepath.Dir(final), ".old-"+filepath.Base(final))
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return err
		}
		defer os.RemoveAll(old)
	}
	return os.Rename(tmp, final)
}

func writeOptimizer(path string, s AdamWState) error {
	names := make([]string, 0, len(s.ExpAvg))
	for name := range s.ExpAvg {
		names = append(names, name)
	}
	sort.Strings(names)

	var tensors []safetensors.WriteTensor
	for _, name := range names {
		for _, moment := range []struct {
			prefix string
			values []float32
		}{{"exp_avg.", s.ExpAvg[name]}, {"exp_avg_sq.", s.ExpAvgSq[name]}} {
			data, err := safetensors.EncodeFloat32(moment.values, safetensors.F32)
			if err != nil {
				return err
			}
			tensors = append(tensors, safetensors.WriteTensor{
				Name: moment.prefix + name, DType: safetensors.F32, Shape: []int{len(moment.values)}, Data: data,
			})
		}
	}
	return safetensors.WriteFile(path, tensors, map[string]string{"step": strconv.FormatInt(s.Step, 10)})
}

func readOptimizer(path string) (AdamWState, error) {
	set, err := safetensors.Open(path)
	if err != nil {
		return AdamWState{}, err
	}
	defer set.Close()

	s := AdamWState{ExpAvg: map[string][]float32{}, ExpAvgSq: map[string][]float32{}}
	step, err := strconv.ParseInt(set.Metadata()["step"], 10, 64)
	if err != nil {
		return s, fmt.Errorf("%s: metadata \"step\" is missing or not an integer", path)
	}
	s.Step = step
	for _, name := range set.Names() {
		values, err := set.Float32(name)
		if err != nil {
			return s, err
		}
		if param, ok := strings.CutPrefix(name, "exp_avg_sq."); ok {
			s.ExpAvgSq[param] = values
		} else if param, ok := strings.CutPrefix(name, "exp_avg."); ok {
			s.ExpAvg[param] = values
		} else {
			return s, fmt.Errorf("%s: unexpected tensor %q (want exp_avg.NAME or exp_avg_sq.NAME)", path, name)
		}
	}
	return s, nil
}

// LoadCheckpoint reads the checkpoint folder dir for a model of dims. The
// optimizer moments must cover exactly the adapter's tensors, with the same
// sizes, and agree with the state's step.
func LoadCheckpoint(dir string, dims peft.Dims) (*Checkpoint, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	var state State
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", filepath.Join(dir, StateFile), err)
	}

	adapter, err := peft.Load(dir, dims)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	opt, err := readOptimizer(filepath.Join(dir, OptimizerFile))
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	if opt.Step != int64(state.Step) {
		return nil, fmt.Errorf("load checkpoint %s: optimizer step %d differs from state step %d", dir, opt.Step, state.Step)
	}

	tensors := adapter.Tensors()
	if len(opt.ExpAvg) != len(tensors) || len(opt.ExpAvgSq) != len(tensors) {
		return nil, fmt.Errorf("load checkpoint %s: optimizer has moments for %d tensors, the adapter has %d", dir, len(opt.ExpAvg), len(tensors))
	}
	for _, t := range tensors {
		m, v := opt.ExpAvg[t.Name], opt.ExpAvgSq[t.Name]
		if len(m) != len(t.Data) || len(v) != len(t.Data) {
			return nil, fmt.Errorf("load checkpoint %s: optimizer moments of %q have %d and %d values, want %d", dir, t.Name, len(m), len(v), len(t.Data))
		}
	}
	return &Checkpoint{Adapter: adapter, Optimizer: opt, State: state}, nil
}

// checkpointSteps returns the steps of the folders named checkpoint-<step>
// under outDir, newest first. Temporary folders start with a dot and are
// not listed.
func checkpointSteps(outDir string) ([]int, error) {
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return nil, err
	}
	var steps []int
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), checkpointPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		step, err := strconv.Atoi(rest)
		if err != nil || step < 0 {
			continue
		}
		steps = append(steps, step)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(steps)))
	return steps, nil
}

// LatestCheckpoint returns the newest checkpoint under outDir that loads
// completely for a model of dims. It skips temporary folders left by an
// interrupted save and any checkpoint that fails to load, so a run resumes
// from the last good one. It returns ErrNoCheckpoint when none loads.
func LatestCheckpoint(outDir string, dims peft.Dims) (*Checkpoint, string, error) {
	steps, err := checkpointSteps(outDir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, "", fmt.Errorf("%s: %w", outDir, ErrNoCheckpoint)
		}
		return nil, "", fmt.Errorf("find checkpoint: %w", err)
	}

	var skipped []string
	for _, step := range steps {
		dir := CheckpointDir(outDir, step)
		ck, err := LoadCheckpoint(dir, dims)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		if ck.State.Step != step {
			skipped = append(skipped, fmt.Sprintf("%s: state step %d does not match the folder name", dir, ck.State.Step))
			continue
		}
		return ck, dir, nil
	}
	if len(skipped) > 0 {
		return nil, "", fmt.Errorf("%s: %w (skipped: %s)", outDir, ErrNoCheckpoint, strings.Join(skipped, "; "))
	}
	return nil, "", fmt.Errorf("%s: %w", outDir, ErrNoCheckpoint)
}

// PruneCheckpoints keeps the newest keep checkpoints under outDir and
// removes the older ones and any temporary folder left by an interrupted
// save. keep <= 0 removes only the temporary folders.
func PruneCheckpoints(outDir string, keep int) error {
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return fmt.Errorf("prune checkpoints: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-"+checkpointPrefix) || strings.HasPrefix(name, ".old-"+checkpointPrefix) {
			if err := os.RemoveAll(filepath.Join(outDir, name)); err != nil {
				return fmt.Errorf("prune checkpoints: %w", err)
			}
		}
	}
	if keep <= 0 {
		return nil
	}

	steps, err := checkpointSteps(outDir)
	if err != nil {
		return fmt.Errorf("prune checkpoints: %w", err)
	}
	for _, step := range steps[min(keep, len(steps)):] {
		if err := os.RemoveAll(CheckpointDir(outDir, step)); err != nil {
			return fmt.Errorf("prune checkpoints: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// syncDir flushes a folder's entries so that a rename survives a crash.
// Errors are ignored because not every file system supports it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
