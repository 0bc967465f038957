// Package browser runs Debian's Chromium headless for the tests of pages
// the project renders, with the network off: every host resolves to
// nothing and every request goes to a closed proxy, so a page that needed
// the network would show it.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Names are the binaries looked for, in order.
var Names = []string{"chromium", "chromium-browser", "google-chrome"}

// Find returns the browser's path, skipping tb when there is none, or
// failing it under CI (.ci/run installs Debian's chromium).
func Find(tb testing.TB) string {
	tb.Helper()
	for _, n := range Names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("no browser (%v) on PATH; the page tests need one in CI (apt-get install chromium)", Names)
	}
	tb.Skipf("no browser (%v) on PATH; skipping the page test", Names)
	return ""
}

// run runs the browser headless on the file with extra flags and returns
// its standard output.
func run(tb testing.TB, bin, file string, width, height int, extra ...string) []byte {
	tb.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		tb.Fatal(err)
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		// The network off: no name resolves, no request leaves.
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
		"--user-data-dir=" + tb.TempDir(),
		"--window-size=" + strconv.Itoa(width) + "," + strconv.Itoa(height),
		// Let the page's script run before the DOM is read.
		"--virtual-time-budget=2000",
	}
	args = append(append(args, extra...), "file://"+abs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+tb.TempDir())
	var stderr limited
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	return out
}

// DumpDOM returns the DOM of file after its scripts ran, as the browser
// serializes it.
func DumpDOM(tb testing.TB, bin, file string, width, height int) []byte {
	tb.Helper()
	return run(tb, bin, file, width, height, "--dump-dom")
}

// Screenshot writes a PNG of file at the window size to out.
func Screenshot(tb testing.TB, bin, file, out string, width, height int) {
	tb.Helper()
	abs, err := filepath.Abs(out)
	if err != nil {
		tb.Fatal(err)
	}
	run(tb, bin, file, width, height, "--screenshot="+abs)
	if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
		tb.Fatalf("no screenshot at %s: %v", abs, err)
	}
}

// limited keeps the first 16 KB of what is written to it (Chromium's
// stderr is chatty about D-Bus, which no test needs).
type limited struct{ b []byte }

func (l *limited) Write(p []byte) (int, error) {
	if room := 16<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limited) String() string { return fmt.Sprint(string(l.b)) }
