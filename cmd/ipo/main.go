// Command ipo scores, benchmarks and trains language models as their own
// preference classifiers (Implicit Preference Optimization).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ipo COMMAND [flags]")
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "ipo: unknown command %q\n", os.Args[1])
	os.Exit(2)
}
