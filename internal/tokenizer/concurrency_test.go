package tokenizer

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConcurrentEncode(t *testing.T) {
	tk := loadObj(t, byteLevelTokenizer(), nil)
	texts := make([]string, 50)
	want := make([][]int, len(texts))
	for i := range texts {
		texts[i] = fmt.Sprintf("hello world %d<|end|> hello%d", i, i*7)
		want[i] = tk.Encode(texts[i], true)
	}
	tk.model.cache = map[string][]int32{}

	var wg sync.WaitGroup
	errs := make(chan string, 8*len(texts))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range texts {
				if diff := cmp.Diff(want[i], tk.Encode(s, true)); diff != "" {
					errs <- fmt.Sprintf("Encode(%q) (-want +got):\n%s", s, diff)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
