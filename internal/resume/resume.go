// Package resume writes the JSON Lines output of long jobs so that an
// interrupted job can continue where it stopped.
//
// Open reads an existing output file, drops a partial last line left by a
// crash mid-write, and returns the keys of the records already written, so
// the job skips them. New records are appended in whole lines, flushed and
// fsynced every FlushRows records and every FlushInterval. After Close, or
// after a crash at any point, the file holds complete JSON lines plus at
// most one partial line, which the next Open removes.
package resume

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	DefaultFlushRows     = 64
	DefaultFlushInterval = 5 * time.Second
)

// Options configure Open.
type Options struct {
	// Key returns the key of a record line, such as its id. When nil, Done
	// stays empty and only Existing counts the records.
	Key func(line []byte) (string, error)

	// FlushRows is the number of pending records that triggers a flush and
	// fsync; 0 means DefaultFlushRows.
	FlushRows int

	// FlushInterval is the longest time a record stays pending; 0 means
	// DefaultFlushInterval.
	FlushInterval time.Duration
}

// Writer appends JSON records to a file, one per line. It is safe for use
// by several goroutines.
type Writer struct {
	path string
	file *os.File
	opts Options

	done     map[string]bool
	existing int
	dropped  int

	mu       sync.Mutex
	pending  bytes.Buffer
	rows     int   // records in pending
	size     int64 // file size after the last successful flush
	flushErr error // error of a background flush, returned by the next call
	closed   bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("resume: writer is closed")

// Open opens or creates the output file at path, repairs a partial last
// line and locks the file against a second writer. A complete line that
// is not valid JSON, or whose key cannot be read, is an error naming the
// line: such a file was not written by this package or was edited.
func Open(path string, opts Options) (*Writer, error) {
	if opts.FlushRows <= 0 {
		opts.FlushRows = DefaultFlushRows
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w; another process is writing this file, so wait for it or choose another output", path, err)
	}

	w := &Writer{path: path, file: f, opts: opts, done: map[string]bool{}, stop: make(chan struct{})}
	if err := w.recover(); err != nil {
		f.Close()
		return nil, err
	}

	w.wg.Add(1)
	go w.flushLoop()
	return w, nil
}

// recover scans the existing lines, truncates a partial last line, and
// adds the missing newline after a complete one.
func (w *Writer) recover() error {
	end, partial, err := scan(w.file, w.path, func(lineNo int, line []byte) error {
		w.existing++
		if w.opts.Key == nil {
			return nil
		}
		key, err := w.opts.Key(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", w.path, lineNo, err)
		}
		w.done[key] = true
		return nil
	})
	if err != nil {
		return err
	}

	switch {
	case partial == nil:
	case json.Valid(partial):
		// A record written in full but without its newline is kept.
		if _, err := w.file.WriteAt([]byte("\n"), end+int64(len(partial))); err != nil {
			return fmt.Errorf("%s: repair last line: %w", w.path, err)
		}
		end += int64(len(partial)) + 1
		w.existing++
		if w.opts.Key != nil {
			if key, err := w.opts.Key(partial); err == nil {
				w.done[key] = true
			}
		}
	default:
		w.dropped = len(partial)
		if err := w.file.Truncate(end); err != nil {
			return fmt.Errorf("%s: drop partial last line: %w", w.path, err)
		}
	}
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	if _, err := w.file.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	w.size = end
	return nil
}

// scan calls fn for every complete non-blank line of r, which must be
// valid JSON. It returns the offset after the last complete line and the
// bytes after it, if any.
func scan(r io.Reader, path string, fn func(lineNo int, line []byte) error) (end int64, partial []byte, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				partial = line
			}
			return end, partial, nil
		}
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", path, err)
		}
		end += int64(len(line))

		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		if !json.Valid(trimmed) {
			return 0, nil, fmt.Errorf("%s:%d: invalid JSON line; the file was not written by this tool or was edited, so fix the line or choose another output", path, lineNo)
		}
		if err := fn(lineNo, trimmed); err != nil {
			return 0, nil, err
		}
	}
}

// Scan calls fn for every complete record line of a file written by a
// Writer, skipping a partial last line. It reads records back, for
// example to build a report from the scores of an earlier run.
func Scan(path string, fn func(lineNo int, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = scan(f, path, fn)
	return err
}

// Done returns the keys of the records present when the file was opened.
// The map is shared, not copied, and must not be changed.
func (w *Writer) Done() map[string]bool { return w.done }

// Existing returns the number of records present when the file was opened.
func (w *Writer) Existing() int { return w.existing }

// Dropped returns the size in bytes of the partial last line that Open
// removed, or 0.
func (w *Writer) Dropped() int { return w.dropped }

// Path returns the output file's path.
func (w *Writer) Path() string { return w.path }

// Write encodes a record as one JSON line and appends it.
func (w *Writer) Write(record any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(record); err != nil {
		return fmt.Errorf("%s: encode record: %w", w.path, err)
	}
	return w.append(buf.Bytes())
}

// WriteLine appends one JSON value given as text. It must be valid JSON
// without a line break.
func (w *Writer) WriteLine(line []byte) error {
	line = bytes.TrimSpace(line)
	if !json.Valid(line) {
		return fmt.Errorf("%s: record is not valid JSON", w.path)
	}
	if bytes.IndexByte(line, '\n') >= 0 {
		return fmt.Errorf("%s: record contains a line break; compact it first", w.path)
	}
	return w.append(append(line[:len(line):len(line)], '\n'))
}

func (w *Writer) append(line []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.flushErr; err != nil {
		return err
	}

	w.pending.Write(line)
	w.rows++
	if w.rows >= w.opts.FlushRows {
		return w.flushLocked()
	}
	return nil
}

// Flush writes the pending records and fsyncs the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}

// flushLocked writes pending records in one call. On a failed write it
// truncates the file back to its last good size, so a partial line never
// stays behind while the process lives.
func (w *Writer) flushLocked() error {
	if w.flushErr != nil {
		return w.flushErr
	}
	if w.pending.Len() == 0 {
		return nil
	}

	n, err := w.file.Write(w.pending.Bytes())
	if err != nil {
		if tErr := w.file.Truncate(w.size); tErr == nil {
			_, _ = w.file.Seek(w.size, io.SeekStart)
		}
		w.flushErr = fmt.Errorf("%s: write: %w", w.path, err)
		return w.flushErr
	}
	if err := w.file.Sync(); err != nil {
		w.flushErr = fmt.Errorf("%s: fsync: %w", w.path, err)
		return w.flushErr
	}
	w.size += int64(n)
	w.pending.Reset()
	w.rows = 0
	return nil
}

// flushLoop flushes pending records every FlushInterval until Close.
func (w *Writer) flushLoop() {
	defer w.wg.Done()
	ticker := time.NewTicker(w.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-ticker.C:
			w.mu.Lock()
			if !w.closed {
				_ = w.flushLocked() // kept in flushErr for the next call
			}
			w.mu.Unlock()
		}
	}
}

// Close flushes pending records, fsyncs and closes the file. Callers
// defer it, and also call it on an interrupt so no finished record is lost.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	err := w.flushLocked()
	w.closed = true
	w.mu.Unlock()

	close(w.stop)
	w.wg.Wait()
	if cerr := w.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// FieldKey returns a Key function that reads top-level fields of a JSON
// object and joins their values with "/". Strings are used as they are;
// numbers and other values in their JSON form.
func FieldKey(fields ...string) func(line []byte) (string, error) {
	return func(line []byte) (string, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return "", fmt.Errorf("record is not a JSON object: %w", err)
		}
		parts := make([]string, len(fields))
		for i, field := range fields {
			raw, ok := obj[field]
			if !ok {
				return "", fmt.Errorf("record has no %q field", field)
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				parts[i] = s
			} else {
				parts[i] = string(raw)
			}
		}
		return strings.Join(parts, "/"), nil
	}
}
