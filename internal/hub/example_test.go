package hub_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"ipo/internal/hub"
)

// Example resolves a local folder, which is returned as is. A Hub id such
// as "HuggingFaceTB/SmolLM2-135M-Instruct" in place of the folder is
// looked up in the cache and downloaded when missing.
func Example() {
	dir, err := os.MkdirTemp("", "hub-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	got, err := hub.Resolve(context.Background(), dir, hub.Options{
		Patterns: []string{"*.json", "*.safetensors"},
		Offline:  true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got == dir)
	// Output: true
}
