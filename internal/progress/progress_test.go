package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is a fake time source that tests advance by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func newBar(total int, terminal bool) (*Bar, *bytes.Buffer, *clock) {
	var buf bytes.Buffer
	c := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(&buf, total, Options{Label: "score", Interval: 10 * time.Second, Terminal: &terminal, Now: c.Now})
	return b, &buf, c
}

func TestPlainLinesEveryInterval(t *testing.T) {
	b, buf, c := newBar(100, false)
	c.advance(5 * time.Second)
	b.Add(10)
	if buf.Len() != 0 {
		t.Errorf("output before the interval: %q", buf.String())
	}
	c.advance(5 * time.Second)
	b.Add(10)
	want := "score: 20/100 rows (20.0%), 2.0 rows/s, ETA 40s\n"
	if got := buf.String(); got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("plain output contains a carriage return")
	}
}

func TestTerminalRedrawsInPlace(t *testing.T) {
	b, buf, c := newBar(60, true)
	c.advance(time.Second)
	b.Add(30)
	got := buf.String()
	if !strings.HasPrefix(got, "\rscore: [===============               ] 30/60 rows (50.0%), 30.0 rows/s, ETA 1s") {
		t.Errorf("bar = %q", got)
	}
	if !strings.HasSuffix(got, "\x1b[K") {
		t.Errorf("bar %q does not clear the rest of the line", got)
	}

	buf.Reset()
	c.advance(10 * time.Millisecond)
	b.Add(1)
	if buf.Len() != 0 {
		t.Errorf("redrawn within %v: %q", redrawEvery, buf.String())
	}
}

func TestFinishSummary(t *testing.T) {
	b, buf, c := newBar(0, false)
	b.Resume(100)
	c.advance(2 * time.Minute)
	b.Add(240)
	buf.Reset()
	b.Finish()
	want := "score: 240 rows in 2m00s (2.0 rows/s), 100 resumed\n"
	if got := buf.String(); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	b.Finish()
	b.Add(1)
	if got := buf.String(); got != want {
		t.Errorf("output after a second Finish and an Add = %q, want it unchanged", got)
	}
	if b.Done() != 340 {
		t.Errorf("Done() = %d, want 340", b.Done())
	}
}

func TestResumedLeftOutOfRate(t *testing.T) {
	b, buf, c := newBar(1000, false)
	b.Resume(500)
	c.advance(10 * time.Second)
	b.Add(100)
	// 100 new rows in 10s: 10 rows/s, 400 left: 40s.
	want := "score: 600/1000 rows (60.0%), 10.0 rows/s, ETA 40s\n"
	if got := buf.String(); got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestUnknownTotal(t *testing.T) {
	b, buf, c := newBar(0, false)
	c.advance(10 * time.Second)
	b.Add(5)
	if want := "score: 5 rows, 0.5 rows/s\n"; buf.String() != want {
		t.Errorf("line = %q, want %q", buf.String(), want)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1400 * time.Millisecond, "1s"},
		{65 * time.Second, "1m05s"},
		{3723 * time.Second, "1h02m03s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestIsTerminalOnFileAndBuffer(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("regular file reported as a terminal")
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("buffer reported as a terminal")
	}
}
