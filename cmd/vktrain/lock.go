package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// runLock is an exclusive advisory lock (flock) on a run's checkpoint,
// held by the process that trains it for the run's whole life, so that a
// second "vktrain train" writing the same checkpoint (the same --name,
// --out or --resume) is refused instead of interleaving its epochs and
// checkpoints with the first one's. The lock file is CHECKPOINT.lock; it
// holds the owner's process id and start time, for the refusal message,
// and is removed when the run ends. The kernel drops the lock when the
// process dies, so a crashed run never leaves its folder locked.
type runLock struct {
	f    *os.File
	path string
}

// errRunBusy marks a refusal because another process holds the lock.
var errRunBusy = errors.New("run in use")

// lockRun takes the lock of the run whose checkpoint is ckpt, or says who
// holds it.
func lockRun(ckpt string) (*runLock, error) {
	path := ckpt + ".lock"
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("locking the run: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			owner := readOwner(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: %s is being trained by another vktrain train (%s; lock %s); wait for it to end, or choose another --name or --out",
					errRunBusy, ckpt, owner, path)
			}
			return nil, fmt.Errorf("locking the run: %s: %w", path, err)
		}
		// The run that held the lock may have removed the file between
		// our open and our flock; then the lock is on a file nobody else
		// sees, and we try again with the new one.
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err == nil {
			fmt.Fprintf(f, "pid %d, started %s", os.Getpid(), time.Now().Format(time.DateTime))
		}
		return &runLock{f: f, path: path}, nil
	}
}

// readOwner returns what the lock holder wrote about itself.
func readOwner(f *os.File) string {
	b := make([]byte, 200)
	n, _ := f.ReadAt(b, 0)
	if s := strings.TrimSpace(string(b[:n])); s != "" {
		return s
	}
	return "process unknown"
}

// release removes the lock file and drops the lock (in this order, so
// that no other run can lock the removed file unnoticed; see lockRun).
func (l *runLock) release() {
	os.Remove(l.path)
	l.f.Close()
}
