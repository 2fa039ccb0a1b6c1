//go:build unix

package resume

import (
	"os"
	"syscall"
)

// lock takes an advisory exclusive lock on f without waiting. The kernel
// releases it when the process exits, so a crash leaves no stale lock.
func lock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
