// Command vktrain trains and evaluates image classifiers with low-bit
// integer forward passes, on Vulkan GPUs or on the pure-Go reference path.
//
// Usage:
//
//	vktrain <command> [flags]
//
// Commands: train, eval, predict, export, plot, devices, bench, version,
// help. Run "vktrain help <command>" for a command's flags and examples;
// "vktrain --version" (or "vktrain version") prints the module version,
// VCS revision and Go version of the binary.
//
// Exit status: 0 success, 1 failure (also: a run refused because another
// vktrain train holds its checkpoint, predict with an unreadable image), 2
// usage error (bad flags or arguments, a --device that names no device),
// 130 training interrupted by SIGINT/SIGTERM after saving a resumable
// checkpoint.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// command is one subcommand, in the shape of cmd/go's: a usage line, short
// and long help, its own flag set and a run function.
type command struct {
	name  string
	usage string
	short string
	long  string
	flags func(fs *flag.FlagSet) func(ctx *env, args []string) error
}

// env is what a command may touch: its output streams and how it learns
// of interruptions.
type env struct {
	stdout, stderr io.Writer
	// terminal is true when stderr is a terminal (progress bars).
	terminal bool
	// notify installs handlers for SIGINT and SIGTERM during training.
	notify bool
	// interrupt, when not nil, replaces the signal handlers (tests).
	interrupt <-chan os.Signal
	// afterStep, when not nil, is called after every training step (tests).
	afterStep func(step int)
	// trainCommand is how the user starts "vktrain train", for the resume
	// hint ("" means "vktrain train"; see trainCommand).
	trainCommand string
}

// usageError marks an error in how the command was called (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries an exit status other than 1 for an error.
type exitError struct {
	code int
	err  error
}

func (x exitError) Error() string { return x.err.Error() }

func commands() []*command {
	return []*command{trainCmd(), evalCmd(), predictCmd(), exportCmd(), plotCmd(), devicesCmd(), benchCmd()}
}

func main() {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, terminal: term.IsTerminal(int(os.Stderr.Fd())), notify: true,
		trainCommand: processTrainCommand()}
	os.Exit(runEnv(e, os.Args[1:]))
}

// runEnv dispatches to a command and maps errors to exit codes: 0 success,
// 1 failure, 2 usage error, or an exitError's code.
func runEnv(e *env, args []string) int {
	stdout, stderr := e.stdout, e.stderr
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1 {
		printUsage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		if len(args) > 1 {
			fmt.Fprintf(stderr, "vktrain %s: unexpected arguments %q\n", args[0], args[1:])
			return 2
		}
		printVersion(e)
		return 0
	}
	if args[0] == "help" {
		for _, c := range cmds {
			if c.name == args[1] {
				fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
				c.flags(fs)
				fs.SetOutput(stdout)
				printCommandHelp(stdout, c, fs)
				return 0
			}
		}
		fmt.Fprintf(stderr, "vktrain help %s: unknown command\n", args[1])
		return 2
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		runFn := c.flags(fs)
		fs.Usage = func() { printCommandHelp(stderr, c, fs) }
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		err := runFn(e, fs.Args())
		if err == nil {
			return 0
		}
		fmt.Fprintf(stderr, "vktrain %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		var xe exitError
		if errors.As(err, &xe) {
			return xe.code
		}
		return 1
	}
	fmt.Fprintf(stderr, "vktrain: unknown command %q\n", args[0])
	printUsage(stderr, cmds)
	return 2
}

func printUsage(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "vktrain trains image classifiers with low-bit integer forward passes (Vulkan or CPU).")
	fmt.Fprintln(w, "\nUsage:\n\n\tvktrain <command> [flags]\n\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\t%-8s %s\n", "version", "print the version of vktrain (also --version)")
	fmt.Fprintln(w, "\nRun \"vktrain help <command>\" for details.")
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: vktrain %s\n\n%s\n\nFlags:\n", c.usage, strings.TrimSpace(c.long))
	fs.SetOutput(w)
	fs.PrintDefaults()
}
