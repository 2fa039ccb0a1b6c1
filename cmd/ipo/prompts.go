package main

import (
	"context"
	"io"

	"ipo/internal/prompts"
)

func init() {
	commands["prompts list"] = command{summary: "print the judge questions of a prompt set", run: runPromptsList}
}

func runPromptsList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("prompts list", "[--prompts FILE] [--full]")
	path := fs.String("prompts", "", "prompt set file (JSON or YAML); default the built-in set")
	full := fs.Bool("full", false, "print every category's whole template, not only its question")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	set := prompts.Builtin()
	if *path != "" {
		var err error
		if set, err = prompts.Load(*path); err != nil {
			return err
		}
	}
	return prompts.WriteList(stdout, set, *full)
}
