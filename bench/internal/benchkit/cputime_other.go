//go:build !unix

package benchkit

import "time"

// CPUTime returns 0 where getrusage is not available, and the CPU columns
// of the table then read 0.
func CPUTime() time.Duration { return 0 }
