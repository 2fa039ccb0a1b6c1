//go:build !linux

package progress

import (
	"io"
	"os"
)

// IsTerminal reports whether w is a file open on a character device, which
// on these systems is taken to be a terminal.
// NOTE: /dev/null is a character device too, so it counts as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
