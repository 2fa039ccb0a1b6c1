package compute

import (
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// threadOverride is the worker count set by SetThreads, or 0 when unset.
var threadOverride atomic.Int64

// envThreads is IPO_THREADS parsed once, or 0 when it is unset or invalid.
var envThreads = sync.OnceValue(func() int {
	value := os.Getenv("IPO_THREADS")
	n, ok := parseThreads(value)
	if !ok {
		slog.Warn("invalid IPO_THREADS, using GOMAXPROCS; set it to a positive integer", "IPO_THREADS", value, "GOMAXPROCS", runtime.GOMAXPROCS(0))
	}
	return n
})

// parseThreads parses a value of IPO_THREADS. It returns 0 for the empty
// string, and 0 and false for a value that is not a positive integer.
func parseThreads(value string) (int, bool) {
	if value == "" {
		return 0, true
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// Threads returns the number of goroutines the kernels split work over: the
// value given to SetThreads, else the IPO_THREADS environment variable when
// it is a positive integer, else GOMAXPROCS.
func Threads() int {
	if n := threadOverride.Load(); n > 0 {
		return int(n)
	}
	if n := envThreads(); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads sets the worker count returned by Threads and returns the
// previous setting (0 when none was set). A value below 1 removes the
// setting, so Threads falls back to IPO_THREADS or GOMAXPROCS.
func SetThreads(n int) int {
	if n < 1 {
		n = 0
	}
	return int(threadOverride.Swap(int64(n)))
}

// Parallel splits [0, n) into at most Threads() contiguous chunks of nearly
// equal size and calls fn(lo, hi) for each chunk on its own goroutine,
// returning when all calls have returned. It calls fn(0, n) inline when
// n < 2 or there is one worker, so each of the n units should carry enough
// work (a row, a head, a block) to be worth a goroutine.
func Parallel(n int, fn func(lo, hi int)) {
	parallelChunks(n, Threads(), fn)
}

// parallelChunks is Parallel with an explicit worker count.
func parallelChunks(n, workers int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		fn(0, n)
		return
	}

	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/workers)
	wg.Wait()
}
