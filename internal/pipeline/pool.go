package pipeline

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// poolStream is the PCG stream of the prompt shuffle, so that the same
// seed used elsewhere gives an unrelated sequence.
const poolStream = 0x9001

// SplitPools shuffles the row indices 0..n-1 with seed and returns
// iterations disjoint pools of size rows each, pool k taking the k-th run
// of the shuffle. Each pool is sorted, so its rows keep the file's order.
// It fails when n rows cannot fill every pool.
func SplitPools(n, iterations, size int, seed uint64) ([][]int, error) {
	if iterations < 1 || size < 1 {
		return nil, fmt.Errorf("split prompts: iterations %d and pool size %d must both be at least 1", iterations, size)
	}
	if iterations*size > n {
		return nil, fmt.Errorf("split prompts: %d iterations of %d prompts need %d prompts, but the file has %d; lower prompts.per_iteration or iterations, or give more prompts",
			iterations, size, iterations*size, n)
	}
	perm := rand.New(rand.NewPCG(seed, poolStream)).Perm(n)
	pools := make([][]int, iterations)
	for k := range pools {
		pool := slices.Clone(perm[k*size : (k+1)*size])
		slices.Sort(pool)
		pools[k] = pool
	}
	return pools, nil
}
