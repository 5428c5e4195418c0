package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// versionText describes the build: the module version, the VCS revision
// and whether the tree had uncommitted changes (both stamped by go build
// in a checkout), and the Go version and platform.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return fmt.Sprintf("vktrain (no build information), %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	vcs := "revision unknown (built without VCS information)"
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = "revision " + rev
		if t := settings["vcs.time"]; t != "" {
			vcs += " (" + t + ")"
		}
		switch settings["vcs.modified"] {
		case "true":
			vcs += ", with uncommitted changes"
		case "false":
			vcs += ", clean"
		}
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return fmt.Sprintf("vktrain %s, %s, built with %s %s/%s", version, vcs, goVersion, runtime.GOOS, runtime.GOARCH)
}

// printVersion prints versionText of this binary.
func printVersion(e *env) {
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprintln(e.stdout, versionText(bi, ok))
}

// trainCommandEnv names the environment variable through which a wrapper
// script (tools/train.sh) tells vktrain how the user starts a training
// run, so that the resume hint names a command the user can type.
const trainCommandEnv = "VKTRAIN_TRAIN_COMMAND"

// trainCommand returns the command line that starts "vktrain train" the
// way this process was started: $VKTRAIN_TRAIN_COMMAND when a wrapper set
// it; "vktrain train" when this binary is the vktrain found on $PATH; "go
// run ./cmd/vktrain train" for a binary that go run built in a temporary
// folder (it is gone once the process ends); else the path the binary was
// started by.
func trainCommand(getenv func(string) string, args0, exe string, lookPath func(string) (string, error)) string {
	if c := strings.TrimSpace(getenv(trainCommandEnv)); c != "" {
		return c
	}
	if p, err := lookPath("vktrain"); err == nil && sameFile(p, exe) {
		return "vktrain train"
	}
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/vktrain train"
	}
	if strings.ContainsRune(args0, filepath.Separator) {
		return shellQuote(args0) + " train"
	}
	return "vktrain train"
}

// sameFile reports whether two paths name the same existing file.
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// processTrainCommand is trainCommand for this process.
func processTrainCommand() string {
	exe, _ := os.Executable()
	return trainCommand(os.Getenv, os.Args[0], exe, exec.LookPath)
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./:=+@%,
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+@%,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
