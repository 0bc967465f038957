package readme

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/internal/docs"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/internal/syncbuf"
)

const root = "../.."

// block is one shell block of the README.
type block struct {
	line    int    // of the opening fence
	heading string // the nearest heading above it
	lines   []string
	// skip: the whole block is not run, for this reason.
	skip string
	// drop: command prefixes not run, with their reasons.
	drop map[string]string
}

var (
	fenceRE  = regexp.MustCompile("^( *)```(\\S*)\\s*$")
	markerRE = regexp.MustCompile(`^<!--\s*not run(?:\s+"([^"]+)")?\s*:\s*(.*?)\s*-->$`)
)

// shellLangs are the fence languages taken for shell commands.
var shellLangs = map[string]bool{"sh": true, "bash": true, "shell": true}

// parse returns the README's shell blocks, and errors for markers that are
// malformed, give no reason, or stand before no shell block.
func parse(readme string) ([]block, []error) {
	var blocks []block
	var errs []error
	var heading string
	var pending []string // marker lines since the last non-blank line
	pendingLine := 0
	sc := bufio.NewScanner(strings.NewReader(readme))
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		text := strings.TrimSpace(raw)
		m := fenceRE.FindStringSubmatch(raw)
		switch {
		case m != nil:
			indent, lang := m[1], m[2]
			start := n
			var body []string
			for sc.Scan() {
				n++
				l := sc.Text()
				if strings.TrimSpace(l) == "```" {
					break
				}
				body = append(body, strings.TrimPrefix(l, indent))
			}
			if !shellLangs[lang] {
				if len(pending) > 0 {
					errs = append(errs, fmt.Errorf("README.md:%d: marker before a %q block, not a shell block", pendingLine, lang))
				}
				pending = nil
				continue
			}
			b := block{line: start, heading: heading, lines: body, drop: map[string]string{}}
			for _, mk := range pending {
				mm := markerRE.FindStringSubmatch(mk)
				if mm[2] == "" {
					errs = append(errs, fmt.Errorf("README.md:%d: %q gives no reason", start, mk))
				}
				if mm[1] == "" {
					b.skip = mm[2]
				} else {
					b.drop[mm[1]] = mm[2]
				}
			}
			pending = nil
			blocks = append(blocks, b)
		case strings.HasPrefix(text, "<!--") && strings.Contains(text, "not run"):
			if !markerRE.MatchString(text) {
				errs = append(errs, fmt.Errorf("README.md:%d: malformed marker %q; want <!-- not run: REASON --> or <!-- not run \"COMMAND\": REASON -->", n, text))
				continue
			}
			if len(pending) == 0 {
				pendingLine = n
			}
			pending = append(pending, text)
		case strings.HasPrefix(raw, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(raw, "#"))
			fallthrough
		case text != "":
			if len(pending) > 0 {
				errs = append(errs, fmt.Errorf("README.md:%d: marker not followed by a shell block", pendingLine))
			}
			pending = nil
		}
	}
	return blocks, errs
}

// script is the commands of b that run, with the dropped ones reported.
func (b block) script(t *testing.T) string {
	var out []string
	used := map[string]bool{}
	for i := 0; i < len(b.lines); i++ {
		l := b.lines[i]
		cmd := strings.TrimSpace(l)
		dropped := false
		for prefix, reason := range b.drop {
			if strings.HasPrefix(cmd, prefix) {
				used[prefix], dropped = true, true
				t.Logf("README.md:%d: not run: %s (%s)", b.line+1+i, cmd, reason)
			}
		}
		if dropped {
			// A command continued on the next lines goes too.
			for strings.HasSuffix(strings.TrimSpace(b.lines[i]), `\`) && i+1 < len(b.lines) {
				i++
			}
			continue
		}
		out = append(out, l)
	}
	for prefix := range b.drop {
		if !used[prefix] {
			t.Errorf("README.md:%d: marker drops %q, which the block does not have", b.line, prefix)
		}
	}
	return strings.Join(out, "\n")
}

// freePort is a free loopback port for a script's server, taken below the
// kernel's ephemeral range (32768 and up on Linux): a port from it, once
// released, could be handed to another test package's listener before
// the script's server binds it, and the script would talk to that one.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port from 20000 to 31999")
	return 0
}

// needs skips t when a program the script calls is not installed, and
// fails it under CI.
func needs(t *testing.T, script string) {
	t.Helper()
	if strings.Contains(script, "moto_server") {
		motoserver.Require(t)
	}
	for _, prog := range []string{"aws", "curl", "make", "go"} {
		if !regexp.MustCompile(`(^|[\s;&|(])` + prog + `\s`).MatchString(script) {
			continue
		}
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found on PATH; the README's commands need it in CI", prog)
			}
			t.Skipf("%s not found on PATH", prog)
		}
	}
}

// environment is the test's environment without AWS settings, so that
// what the README exports is what the commands get, and without the
// user's aws CLI configuration, as on a newcomer's machine.
func environment(dir string, port int) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || k == "MOTO_PORT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		nestedEnv+"=1",
		"MOTO_PORT="+strconv.Itoa(port),
		"AWS_CONFIG_FILE="+filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "aws-credentials"),
	)
}

// nestedEnv is set in the scripts' environment, so that a test run from a
// README block knows it.
const nestedEnv = "COGNITRAIL_README_SCRIPT"

// walkthrough is the moto_server walkthrough's group: its page and heading.
const walkthrough = "docs/local.md: Trying it locally with moto_server"

// expectOutput: what a section's output must show, from what the README
// says the commands print.
var expectOutput = map[string][]string{
	// The README's first block: make run says it builds, then summarises.
	"cognitrail": {"building cognitrail", "Records  553 read"},
	walkthrough: {
		`"batchItemFailures": []`, // step 4's comment
		`"processed": 0`,          // step 4: the second s3-put counts nothing
		`"Label": "RecordsRead"`,  // step 5
	},
}

// TestREADMEShellBlocks runs every shell block of the documentation (the
// README and its pages, docs.Files) that is not marked as not run (see the
// package comment).
func TestREADMEShellBlocks(t *testing.T) {
	if os.Getenv(nestedEnv) != "" {
		// A README block ran the test suite: stop here rather than recurse.
		t.Fatal("a README block runs the test suite; mark it <!-- not run \"COMMAND\": this is the test suite itself -->")
	}
	// Blocks under one heading of one page share state: one script, in
	// order.
	type group struct {
		name  string
		parts []string
	}
	var groups []*group
	byName := map[string]*group{}
	for _, file := range docs.Files {
		raw, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		blocks, errs := parse(string(raw))
		for _, err := range errs {
			t.Errorf("%s: %v", file, err)
		}
		for _, b := range blocks {
			if b.skip != "" {
				t.Logf("%s:%d (%s): not run: %s", file, b.line, b.heading, b.skip)
				continue
			}
			s := b.script(t)
			if strings.TrimSpace(s) == "" {
				continue
			}
			name := b.heading
			if file != "README.md" {
				name = file + ": " + b.heading
			}
			g := byName[name]
			if g == nil {
				g = &group{name: name}
				byName[name] = g
				groups = append(groups, g)
			}
			g.parts = append(g.parts, fmt.Sprintf("# %s:%d\n%s", file, b.line, s))
		}
	}
	if len(groups) == 0 {
		t.Fatal("the documentation has no shell blocks")
	}
	if _, ok := byName[walkthrough]; !ok {
		t.Error("the moto_server walkthrough is not run")
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			script := strings.Join(g.parts, "\n")
			needs(t, script)
			out := run(t, script)
			for _, want := range expectOutput[g.name] {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, tail(out, 4000))
				}
			}
		})
	}
}

// run runs script with bash -euo pipefail in the repository root, in its
// own process group, which is ended afterwards whatever the script left
// running (a server started with &).
func run(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = environment(dir, freePort(t))
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// The group outlives bash when the script backgrounds a server; stdout
	// stays open in it, so Wait must not wait for the pipe's end.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	start := time.Now()
	err = cmd.Wait()
	t.Logf("ran in %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%v\nscript:\n%s\noutput (end):\n%s", err, script, tail(out.String(), 6000))
	}
	return out.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
