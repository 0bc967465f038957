package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/cognitrail/cognitrail", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.time", Value: "2026-11-20T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := version(bi, true), "cognitrail v1.2.3 revision 0123abc (modified) 2026-11-20T10:00:00Z go1.26.0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := version(&debug.BuildInfo{}, true); got != "cognitrail (devel)" {
		t.Errorf("no version, no VCS: %q", got)
	}
	if got := version(nil, false); !strings.Contains(got, "no build information") {
		t.Errorf("no build info: %q", got)
	}
	out, errs, rc := runOut("--version")
	if rc != exitOK || !strings.HasPrefix(out, "cognitrail ") || errs != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", rc, out, errs)
	}
}

// A built binary's --version says what the go command stamped into it, as
// `go version -m` reads it: the module version and, in a git checkout, the
// revision (-buildvcs=true: this machine's GOFLAGS may turn it off). (The
// go command stamps no revision in a linked git worktree,
// golang/go#58218; then --version must not claim one.)
func TestVersionOfBuiltBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cognitrail")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var rev string
	for _, line := range strings.Split(string(meta), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision=") {
			rev = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if !strings.HasPrefix(got, "cognitrail ") {
		t.Errorf("--version %q", got)
	}
	if rev != "" && !strings.Contains(got, "revision "+rev) {
		t.Errorf("--version %q does not name the stamped revision %s", got, rev)
	}
	if rev == "" && strings.Contains(got, "revision") {
		t.Errorf("--version %q names a revision the go command did not stamp", got)
	}
	t.Logf("%s (stamped revision %q)", strings.TrimSpace(got), rev)
}
