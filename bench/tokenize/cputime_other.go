//go:build !unix

package main

import "time"

// cpuTime returns 0 because this platform has no getrusage.
// NOTE: the CPU-time columns read 0 and the CPU ratio is not a number here.
func cpuTime() time.Duration {
	return 0
}
