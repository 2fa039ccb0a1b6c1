// Package progress reports the progress of long jobs, usually on stderr.
// On a terminal it redraws a bar in place. When the output is a file or a
// pipe it writes a plain line every few seconds instead. Both forms show
// the rate and the estimated time left.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Options configure a Bar. The zero value is usable.
type Options struct {
	Label string // printed before the counts, such as "score"
	Unit  string // the unit counted; "rows" when empty

	// Interval is the time between plain lines when the output is not a
	// terminal; 0 means 10 seconds.
	Interval time.Duration

	// Terminal forces the terminal (true) or plain (false) form; nil
	// detects it from the writer.
	Terminal *bool

	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// redrawEvery limits how often the terminal bar is redrawn.
const redrawEvery = 100 * time.Millisecond

// barWidth is the number of cells of the terminal bar.
const barWidth = 30

// Bar tracks a count of finished items against a total. It is safe for
// use by several goroutines.
type Bar struct {
	w        io.Writer
	opts     Options
	terminal bool

	mu       sync.Mutex
	total    int
	done     int
	resumed  int // items done before the start, left out of the rate
	start    time.Time
	lastDraw time.Time
	finished bool
}

// New starts a bar over total items; a total of 0 means unknown.
func New(w io.Writer, total int, opts Options) *Bar {
	if opts.Unit == "" {
		opts.Unit = "rows"
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	terminal := IsTerminal(w)
	if opts.Terminal != nil {
		terminal = *opts.Terminal
	}
	now := opts.Now()
	return &Bar{w: w, opts: opts, terminal: terminal, total: total, start: now, lastDraw: now}
}

// Resume counts n items as done before this run, such as records already
// in a resumed output. They show in the count but not in the rate.
func (b *Bar) Resume(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.resumed += n
}

// Add counts n more finished items and redraws when due.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.done += n

	now := b.opts.Now()
	due := b.opts.Interval
	if b.terminal {
		due = redrawEvery
	}
	if now.Sub(b.lastDraw) >= due {
		b.lastDraw = now
		b.draw(now)
	}
}

// Done returns the number of items counted so far, resumed ones included.
func (b *Bar) Done() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// Finish draws the final state and a summary line with the count, the
// wall time and the rate. Later calls do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true

	now := b.opts.Now()
	if b.terminal {
		b.draw(now)
		fmt.Fprintln(b.w)
	}
	elapsed := now.Sub(b.start)
	fresh := b.done - b.resumed
	fmt.Fprintf(b.w, "%s%d %s in %s (%s)", b.prefix(), fresh, b.opts.Unit, formatDuration(elapsed), b.rate(now))
	if b.resumed > 0 {
		fmt.Fprintf(b.w, ", %d resumed", b.resumed)
	}
	fmt.Fprintln(b.w)
}

func (b *Bar) prefix() string {
	if b.opts.Label == "" {
		return ""
	}
	return b.opts.Label + ": "
}

// rate formats the items per second of this run.
func (b *Bar) rate(now time.Time) string {
	return fmt.Sprintf("%.1f %s/s", b.perSecond(now), b.opts.Unit)
}

func (b *Bar) perSecond(now time.Time) float64 {
	elapsed := now.Sub(b.start).Seconds()
	if elapsed <= 0 {
		return 0
	}
	return float64(b.done-b.resumed) / elapsed
}

// eta formats the estimated time left, or "" when it is unknown.
func (b *Bar) eta(now time.Time) string {
	perSecond := b.perSecond(now)
	if b.total <= 0 || perSecond <= 0 {
		return ""
	}
	left := float64(max(b.total-b.done, 0)) / perSecond
	return "ETA " + formatDuration(time.Duration(left*float64(time.Second)))
}

// draw writes the current state: the bar in place on a terminal, else one
// line.
func (b *Bar) draw(now time.Time) {
	var parts []string
	if b.total > 0 {
		share := min(float64(b.done)/float64(b.total), 1)
		parts = append(parts, fmt.Sprintf("%d/%d %s (%.1f%%)", b.done, b.total, b.opts.Unit, 100*share))
	} else {
		parts = append(parts, fmt.Sprintf("%d %s", b.done, b.opts.Unit))
	}
	parts = append(parts, b.rate(now))
	if eta := b.eta(now); eta != "" {
		parts = append(parts, eta)
	}
	status := strings.Join(parts, ", ")

	if !b.terminal {
		fmt.Fprintf(b.w, "%s%s\n", b.prefix(), status)
		return
	}
	cells := 0
	if b.total > 0 {
		cells = min(b.done*barWidth/b.total, barWidth)
	}
	bar := strings.Repeat("=", cells) + strings.Repeat(" ", barWidth-cells)
	// \r returns to the line start and \x1b[K clears what a longer earlier
	// line left behind.
	fmt.Fprintf(b.w, "\r%s[%s] %s\x1b[K", b.prefix(), bar, status)
}

// formatDuration rounds to seconds and prints hours, minutes and seconds,
// such as 1h02m03s, 4m05s or 6s.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	h, m := s/3600, s/60%60
	s %= 60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
