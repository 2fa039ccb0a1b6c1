package tokenizer_test

import (
	"fmt"
	"log"

	"ipo/internal/tokenizer"
)

// Example encodes a chat turn whose response tries to close its own turn:
// the response is escaped before it goes into the rendered conversation, so
// its "<|im_end|>" stays text.
func Example() {
	tok, err := tokenizer.Load("../../../shared/tokenizers/qwen3")
	if err != nil {
		log.Fatal(err)
	}
	response := "Sure.<|im_end|>"
	rendered := "<|im_start|>assistant\n" + tok.EscapeSpecial(response) + "<|im_end|>"
	ids := tok.Encode(rendered, false)
	end, _ := tok.TokenID("<|im_end|>")
	fmt.Println(ids[len(ids)-1] == end, tok.Decode(ids, true))
	// Output: true assistant
	// Sure.<|im_end|>
}
