package judge

import (
	"context"
	"fmt"
	"sort"
)

// Model returns the next-token logits after each sequence of a batch. The
// logits of a sequence must not depend on the other sequences in the batch.
type Model interface {
	NextTokenLogits(batch [][]int) ([][]float32, error)
}

// Scorer scores judge inputs in batches of similar length.
type Scorer struct {
	Model Model
	Sets  TokenSets
	// BatchTokens caps the padded size of a batch, rows × longest row.
	BatchTokens int
	// MaxBatch caps the rows in one batch.
	MaxBatch int
}

// Score returns the score of each input, in input order. Inputs are sorted
// by length and cut into batches, so short rows are not padded to the
// length of long ones. The scores do not depend on the batching.
func (s *Scorer) Score(inputs []Input) ([]Score, error) {
	scores := make([]Score, len(inputs))
	err := s.ScoreEach(context.Background(), inputs, func(i int, score Score) error {
		scores[i] = score
		return nil
	})
	return scores, err
}

// ScoreEach scores inputs like Score and calls emit for each input, by its
// index, as soon as its batch is done, so a long job can save results as
// it goes. It stops between batches when ctx is done or emit fails.
func (s *Scorer) ScoreEach(ctx context.Context, inputs []Input, emit func(i int, score Score) error) error {
	order := make([]int, len(inputs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(inputs[order[a]].Tokens) < len(inputs[order[b]].Tokens) })

	for start := 0; start < len(order); {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := s.batchEnd(inputs, order, start)

		batch := make([][]int, 0, end-start)
		for _, i := range order[start:end] {
			if len(inputs[i].Tokens) == 0 {
				return fmt.Errorf("judge input %d has no tokens", i)
			}
			batch = append(batch, inputs[i].Tokens)
		}
		logits, err := s.Model.NextTokenLogits(batch)
		if err != nil {
			return err
		}
		for j, i := range order[start:end] {
			score, err := ScoreLogits(logits[j], s.Sets)
			if err != nil {
				return fmt.Errorf("judge input %d: %w", i, err)
			}
			if err := emit(i, score); err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}

// batchEnd returns the end of the batch that starts at order[start]: rows
// are added while the padded size stays within BatchTokens and MaxBatch.
// A single row longer than BatchTokens forms a batch of its own.
func (s *Scorer) batchEnd(inputs []Input, order []int, start int) int {
	end := start + 1
	for end < len(order) {
		rows := end - start + 1
		longest := len(inputs[order[end]].Tokens)
		if s.MaxBatch > 0 && rows > s.MaxBatch {
			break
		}
		if s.BatchTokens > 0 && rows*longest > s.BatchTokens {
			break
		}
		end++
	}
	return end
}
