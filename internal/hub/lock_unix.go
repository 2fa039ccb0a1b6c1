//go:build unix

package hub

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f, the lock that Python's filelock
// takes on unix, so ipo and huggingface_hub exclude each other.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
}

func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
