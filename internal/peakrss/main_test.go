package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// TestPeakIsTheCommands: a process this test starts itself reports at
// least the test's own peak RSS, the reason peakrss exists; started from
// peakrss, the same command reports its own, small, peak.
func TestPeakIsTheCommands(t *testing.T) {
	dir := t.TempDir()
	helper := filepath.Join(dir, "peakrss")
	if out, err := exec.Command("go", "build", "-o", helper, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Raise this process's peak RSS well above a small program's.
	const big = 160 << 20
	ballast := make([]byte, big)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	small := []string{os.Args[0], "-test.run=^$"}

	direct := exec.Command(small[0], small[1:]...)
	if err := direct.Run(); err != nil {
		t.Fatal(err)
	}
	inherited := direct.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10

	out := filepath.Join(dir, "usage.json")
	if err := exec.Command(helper, append([]string{"-o", out}, small...)...).Run(); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(ballast)
	js, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var u Usage
	if err := json.Unmarshal(js, &u); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if inherited < big {
		t.Errorf("started directly, the command reported %d MB: this kernel does not pass the parent's peak on (peakrss would not be needed)", inherited>>20)
	}
	if u.PeakRSS <= 0 || u.PeakRSS > 64<<20 || u.CPUNanos <= 0 || u.ExitCode != 0 {
		t.Errorf("through peakrss: %+v, want the command's own peak (a few MB), some CPU time, exit 0", u)
	}
}
