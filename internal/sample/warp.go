package sample

import (
	"container/heap"
	"slices"
)

// The warpers below follow transformers' TopKLogitsWarper, TopPLogitsWarper
// and MinPLogitsWarper with min_tokens_to_keep = 1. Each takes the ids still
// in play and returns the ones it keeps, reordering candidates in place.
// Removed ids keep their scores, so later steps read only the kept ids.

// topK keeps the ids whose score is at least the k-th highest. Like
// transformers, which removes scores below that threshold, it keeps every
// id tied with the k-th, so more than k ids can remain.
func (s *Sampler) topK(scores []float64, candidates []int32, k int) []int32 {
	if k >= len(candidates) {
		return candidates
	}

	// A min-heap of the k highest scores seen. Its root is the k-th.
	h := minHeap(s.heap[:0])
	for _, id := range candidates {
		v := scores[id]
		switch {
		case len(h) < k:
			h = append(h, v)
			if len(h) == k {
				heap.Init(&h)
			}
		case v > h[0]:
			h[0] = v
			heap.Fix(&h, 0)
		}
	}
	s.heap = h
	threshold := h[0]

	kept := 0
	for _, id := range candidates {
		if scores[id] >= threshold {
			candidates[kept] = id
			kept++
		}
	}
	return candidates[:kept]
}

// minHeap is a container/heap min-heap of scores.
type minHeap []float64

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *minHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// Top-p groups scores into buckets by their distance below the top score,
// bucketScale buckets per nat, so that only the bucket where the
// cumulative probability crosses p needs sorting. Scores more than
// bucketCount/bucketScale nats below the top, with probability below e^-64
// of the top's, share the last bucket.
const (
	bucketScale = 16
	bucketCount = 64 * bucketScale
)

// bucketOf returns the bucket of a score given the top score.
func bucketOf(score, top float64) int {
	d := (top - score) * bucketScale
	if d < bucketCount-1 {
		return int(d)
	}
	if score == top {
		// Both +Inf: the difference is NaN.
		return 0
	}
	return bucketCount - 1
}

// topP keeps the smallest set of highest-probability ids whose total
// probability is at least p, and always at least one id. Transformers sorts
// ascending and removes an id when the cumulative probability up to and
// including it is at most 1-p. That is the same rule: an id is kept exactly
// when the ids before it in descending order hold less than p. Among equal
// scores the lower id comes first in descending order, as in torch.argmax,
// so the higher id is removed first. Transformers sorts with torch.sort,
// whose order among equal values is unspecified for more than 16 values
// (torch 1.13), so no fixed rule can match it on ties.
func (s *Sampler) topP(scores []float64, candidates []int32, p float64) []int32 {
	top := maxScore(scores, candidates)
	var mass [bucketCount]float64
	total := 0.0
	for _, id := range candidates {
		w := weight(scores[id], top)
		mass[bucketOf(scores[id], top)] += w
		total += w
	}
	target := p * total

	// The boundary is the first bucket that brings the cumulative
	// probability to the target. Buckets before it are kept whole and
	// buckets after it are removed.
	cumulative := 0.0
	boundary := -1
	for b, m := range mass {
		if cumulative+m >= target {
			boundary = b
			break
		}
		cumulative += m
	}
	if boundary < 0 {
		// Rounding left the sum of all buckets below the target.
		return candidates
	}

	// Move the ids of earlier buckets to the front, then the boundary's.
	kept := 0
	for i, id := range candidates {
		if bucketOf(scores[id], top) < boundary {
			candidates[kept], candidates[i] = id, candidates[kept]
			kept++
		}
	}
	edge := kept
	for i := kept; i < len(candidates); i++ {
		if id := candidates[i]; bucketOf(scores[id], top) == boundary {
			candidates[edge], candidates[i] = id, candidates[edge]
			edge++
		}
	}

	// Walk the boundary bucket in descending order.
	inBucket := candidates[kept:edge]
	slices.SortFunc(inBucket, func(a, b int32) int {
		switch {
		case a == b:
			return 0
		case before(scores, a, b):
			return -1
		}
		return 1
	})
	for _, id := range inBucket {
		if kept > 0 && cumulative >= target {
			break
		}
		cumulative += weight(scores[id], top)
		kept++
	}
	return candidates[:kept]
}

// minP keeps the ids whose probability is at least p times the highest
// probability. The ratio of two softmax probabilities is exp of the
// difference of their scores, so no normalization is needed. The top id
// always stays because p is at most 1.
func minP(scores []float64, candidates []int32, p float64) []int32 {
	top := maxScore(scores, candidates)
	kept := 0
	for _, id := range candidates {
		if weight(scores[id], top) >= p {
			candidates[kept] = id
			kept++
		}
	}
	return candidates[:kept]
}

// before reports whether id a comes before id b in descending score order,
// the lower id first on equal scores. It is a strict total order.
func before(scores []float64, a, b int32) bool {
	sa, sb := scores[a], scores[b]
	if sa != sb {
		return sa > sb
	}
	return a < b
}
