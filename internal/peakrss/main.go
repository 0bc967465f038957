// Command peakrss runs a command and writes, as one JSON object (Usage) to
// the file named by -o, the CPU time and peak resident set size of that
// command alone: what a benchmark that runs a program as a user does needs,
// and what it cannot read from a child it starts itself.
//
// Usage:
//
//	peakrss -o FILE COMMAND [ARG...]
//
// The command's standard input, output and error are peakrss's, and so is
// its exit code.
//
// A process a Go program starts reports, in ru_maxrss, at least the peak
// RSS of the program that started it: os/exec starts it with vfork,
// sharing the parent's address space until exec, and Linux keeps the
// high-water mark of the address space an exec replaces. A benchmark
// whose own peak is 40 MB would see 40 MB for every child. Started from
// peakrss, whose own peak is a few MB, the figure is the command's.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Usage is what peakrss writes: CPU time (user and system) in nanoseconds,
// peak RSS in bytes, the command's exit code.
type Usage struct {
	CPUNanos int64 `json:"cpu_ns"`
	PeakRSS  int64 `json:"peak_rss"`
	ExitCode int   `json:"exit_code"`
}

func main() {
	if len(os.Args) < 4 || os.Args[1] != "-o" {
		fmt.Fprintln(os.Stderr, "usage: peakrss -o FILE COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[3], os.Args[4:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(2)
	}
	u := Usage{
		CPUNanos: int64(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()),
		ExitCode: cmd.ProcessState.ExitCode(),
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// Linux reports ru_maxrss in kilobytes.
		u.PeakRSS = ru.Maxrss << 10
	}
	js, _ := json.Marshal(u)
	if err := os.WriteFile(os.Args[2], js, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(2)
	}
	os.Exit(u.ExitCode)
}
