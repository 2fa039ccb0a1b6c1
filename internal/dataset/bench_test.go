package dataset

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// BenchmarkReadJSONL reads the two shared RewardBench files (721 rows,
// 1.6 MB).
func BenchmarkReadJSONL(b *testing.B) {
	path := sharedPath(b, "data/rewardbench")
	for b.Loop() {
		if _, err := Read(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadParquet reads 10,000 RewardBench-shaped rows with 1 KB
// responses.
func BenchmarkReadParquet(b *testing.B) {
	text := strings.Repeat("response text ", 73)
	rows := make([]benchRow, 10000)
	for i := range rows {
		rows[i] = benchRow{Prompt: "prompt", Chosen: text, Rejected: text, Subset: "hep-go", ID: int64(i)}
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := parseParquet("bench.parquet", data); err != nil {
			b.Fatal(err)
		}
	}
}
