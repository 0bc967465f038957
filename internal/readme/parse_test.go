package readme

import (
	"strings"
	"testing"
)

// TestParseMarkers: a block is run unless a marker with a reason stands
// just before it; markers that are malformed, give no reason or mark
// nothing are errors, so a block cannot silently drop out of the test.
func TestParseMarkers(t *testing.T) {
	const md = "# A\n\n" +
		"```sh\necho run\n```\n\n" +
		"<!-- not run: needs an AWS account -->\n```sh\naws s3 ls\n```\n\n" +
		"## B\n\n" +
		"<!-- not run \"make test\": this is the test suite itself -->\n" +
		"   ```sh\n   make test\n   make run\n   ```\n\n" +
		"<!-- not run: -->\n```sh\necho no reason\n```\n\n" +
		"<!-- not run: stray -->\n\nsome text\n\n" +
		"<!-- not run: before text -->\n```text\nnot shell\n```\n\n" +
		"<!-- not run because -->\n```bash\necho malformed marker\n```\n"
	blocks, errs := parse(md)
	if len(blocks) != 5 {
		t.Fatalf("%d blocks, want 5: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.skip != "" || b.heading != "A" || strings.Join(b.lines, ";") != "echo run" {
		t.Errorf("block 0: %+v", b)
	}
	if b := blocks[1]; b.skip != "needs an AWS account" {
		t.Errorf("block 1: %+v", b)
	}
	b := blocks[2]
	if b.heading != "B" || b.drop["make test"] != "this is the test suite itself" || strings.Join(b.lines, ";") != "make test;make run" {
		t.Errorf("block 2: %+v", b)
	}
	if s := b.script(t); s != "make run" {
		t.Errorf("block 2 script %q, want the make run line only", s)
	}
	if blocks[4].skip != "" {
		t.Errorf("a malformed marker skipped a block: %+v", blocks[4])
	}
	want := []string{"gives no reason", "not followed by a shell block", "not a shell block", "malformed marker"}
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) {
			t.Errorf("error %d: %v, want %q", i, errs[i], w)
		}
	}
}
