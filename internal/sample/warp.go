package sample

import (
	"slices"
)

// The warpers below follow transformers' TopKLogitsWarper, TopPLogitsWarper
// and MinPLogitsWarper with min_tokens_to_keep = 1. Each takes the ids still
// in play and returns the ones it keeps, reordering candidates in place.
// Removed ids keep their scores, so later steps read only the kept ids.

// topK keeps the ids whose score is at least the k-th highest. Like
// transformers, which removes scores below that threshold, it keeps every
// id tied with the k-th, so more than k ids can remain.
func topK(scores []float64, candidates []int32, k int) []int32 {
	if k >= len(candidates) {
		return candidates
	}

	selectTop(scores, candidates, k)
	threshold := scores[candidates[0]]
	for _, id := range candidates[1:k] {
		threshold = min(threshold, scores[id])
	}

	kept := k
	for i := k; i < len(candidates); i++ {
		if scores[candidates[i]] >= threshold {
			candidates[kept], candidates[i] = candidates[i], candidates[kept]
			kept++
		}
	}
	return candidates[:kept]
}

// topP keeps the smallest set of highest-probability ids whose total
// probability is at least p, and always at least one id. Transformers sorts
// ascending and removes an id when the cumulative probability up to and
// including it is at most 1-p. That is the same rule: an id is kept exactly
// when the ids before it in descending order hold less than p.
// Among equal scores the higher id comes first in descending order, as in
// torch's stable ascending sort, so the lower id is removed first.
//
// Rather than sorting the whole vocabulary, it sorts the top m ids and
// grows m fourfold until they reach p, which for a peaked distribution
// costs one linear pass.
func topP(scores []float64, candidates []int32, p float64) []int32 {
	top := maxScore(scores, candidates)
	total := 0.0
	for _, id := range candidates {
		total += weight(scores[id], top)
	}
	target := p * total

	m := min(64, len(candidates))
	for {
		selectTop(scores, candidates, m)
		head := candidates[:m]
		slices.SortFunc(head, func(a, b int32) int {
			switch {
			case a == b:
				return 0
			case before(scores, a, b):
				return -1
			}
			return 1
		})

		cumulative := 0.0
		for i, id := range head {
			if cumulative >= target {
				return candidates[:i]
			}
			cumulative += weight(scores[id], top)
		}
		if m == len(candidates) {
			return candidates
		}
		m = min(4*m, len(candidates))
	}
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
// the higher id first on equal scores. It is a strict total order.
func before(scores []float64, a, b int32) bool {
	sa, sb := scores[a], scores[b]
	if sa != sb {
		return sa > sb
	}
	return a > b
}

// selectTop reorders ids so that its first k entries are the k that come
// first in the order of before, in no particular order among themselves.
// It is a quickselect with a median-of-three pivot, linear on average.
func selectTop(scores []float64, ids []int32, k int) {
	if k <= 0 || k >= len(ids) {
		return
	}

	lo, hi := 0, len(ids)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if before(scores, ids[mid], ids[lo]) {
			ids[mid], ids[lo] = ids[lo], ids[mid]
		}
		if before(scores, ids[hi], ids[lo]) {
			ids[hi], ids[lo] = ids[lo], ids[hi]
		}
		if before(scores, ids[hi], ids[mid]) {
			ids[hi], ids[mid] = ids[mid], ids[hi]
		}
		pivot := ids[mid]

		// Hoare partition: afterwards ids[lo..j] do not come after the
		// pivot and ids[i..hi] do not come before it.
		i, j := lo, hi
		for i <= j {
			for before(scores, ids[i], pivot) {
				i++
			}
			for before(scores, pivot, ids[j]) {
				j--
			}
			if i <= j {
				ids[i], ids[j] = ids[j], ids[i]
				i++
				j--
			}
		}

		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}
