// Command ipo turns an instruction-tuned language model into its own
// preference classifier, benchmarks it and trains it on its own labels
// (Implicit Preference Optimization).
//
// Run `ipo help` for the commands; every command takes -h for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of ipo.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
	// resumable commands keep their output when interrupted and continue
	// it when run again.
	resumable bool
}

// commands maps each subcommand name to its entry; nested commands such as
// "bench rewardbench" are spelled with a space.
var commands = map[string]command{}

// errUsage reports a flag or argument problem already printed to stderr.
var errUsage = errors.New("invalid usage")

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C lets the command stop cleanly after the current
	// batch; restoring the default handlers makes a second one end the
	// process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()

	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runMain dispatches args to a subcommand and returns the exit code: 0 on
// success, 2 for usage errors, 130 when interrupted, 1 otherwise.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}

	name, rest := args[0], args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		if _, ok := commands[name+" "+rest[0]]; ok {
			name, rest = name+" "+rest[0], rest[1:]
		}
	}
	cmd, ok := commands[name]
	if !ok {
		if sub := subcommands(name); len(sub) > 0 {
			fmt.Fprintf(stderr, "usage: ipo %s SUBCOMMAND [flags]\n\nsubcommands:\n", name)
			for _, s := range sub {
				fmt.Fprintf(stderr, "  %-18s %s\n", s, commands[s].summary)
			}
			return 2
		}
		fmt.Fprintf(stderr, "ipo: unknown command %q; run `ipo help` for the list\n", name)
		return 2
	}

	err := cmd.run(ctx, rest, stdout)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case ctx.Err() != nil && cmd.resumable:
		fmt.Fprintf(stderr, "ipo %s: interrupted; the output written so far is kept, run the same command again to resume\n", name)
		return 130
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "ipo %s: interrupted\n", name)
		return 130
	default:
		fmt.Fprintf(stderr, "ipo %s: %v\n", name, err)
		return 1
	}
}

// subcommands returns the sorted commands nested under name, such as
// "bench rewardbench" under "bench".
func subcommands(name string) []string {
	var names []string
	for full := range commands {
		if strings.HasPrefix(full, name+" ") {
			names = append(names, full)
		}
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ipo: a language model as its own preference classifier (Implicit Preference Optimization)")
	fmt.Fprintln(w, "\nusage: ipo COMMAND [flags]    (ipo COMMAND -h shows the flags)")
	fmt.Fprintln(w, "\ncommands:")
	defer fmt.Fprintln(w, "\nenvironment: HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE=1 as in huggingface_hub;\nIPO_THREADS sets the compute threads (default: all cores); IPO_LOG sets the log level (debug, info, warn, error)")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-18s %s\n", name, commands[name].summary)
	}
}

// logLevel reads IPO_LOG (debug, info, warn, error); the default is info.
func logLevel() slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("IPO_LOG"))); err != nil {
		return slog.LevelInfo
	}
	return level
}

// newFlagSet returns a flag set for a subcommand that reports errors
// instead of exiting, so tests can call commands in process.
func newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("ipo "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ipo %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects stray positional arguments unless
// positional is true.
func parseFlags(fs *flag.FlagSet, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if !positional && fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "ipo %s: unexpected argument %q (flags go before arguments, as -name value)\n", strings.TrimPrefix(fs.Name(), "ipo "), fs.Arg(0))
		return errUsage
	}
	return nil
}

// requireFlag reports a missing required flag by name.
func requireFlag(fs *flag.FlagSet, name, value string) error {
	if value == "" {
		fmt.Fprintf(fs.Output(), "%s: missing required flag --%s\n", fs.Name(), name)
		return errUsage
	}
	return nil
}
