// Package docs names the project's documentation, README.md and the pages
// under docs/, in reading order, for the tests that keep it in step with
// the code: the tables the code defines, the figures it measures and the
// shell blocks a reader is told to run.
package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files are the documentation files, relative to the repository root, in
// reading order: the README, then the pages it links to.
var Files = []string{
	"README.md",
	"docs/metrics.md",
	"docs/cli.md",
	"docs/findings.md",
	"docs/posture.md",
	"docs/function.md",
	"docs/local.md",
	"docs/backfill.md",
	"docs/deploy.md",
	"docs/development.md",
}

// Read returns every file of Files under root, in order, joined by a blank
// line: a test that looks for a sentence or a table finds it on whichever
// page it is.
func Read(root string) (string, error) {
	var b strings.Builder
	for _, f := range Files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		b.Write(data)
		b.WriteString("\n")
	}
	return b.String(), nil
}

// Page returns one file of Files under root.
func Page(root, name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, name))
	return string(data), err
}

// Block returns the body of the first fenced code block after the line
// that contains marker in text, and whether there is one: the sample a
// page shows under a sentence, for a test to hold to what the code makes.
func Block(text, marker string) (string, bool) {
	i := strings.Index(text, marker)
	if i < 0 {
		return "", false
	}
	rest := text[i:]
	start := strings.Index(rest, "\n```")
	if start < 0 {
		return "", false
	}
	rest = rest[start+4:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return "", false
	}
	rest = rest[nl+1:]
	end := strings.Index(rest, "\n```")
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

// JSONBlock reads page name under root and decodes into v the JSON of the
// Block after marker, returning the page for the samples that follow.
func JSONBlock(root, name, marker string, v any) (string, error) {
	page, err := Page(root, name)
	if err != nil {
		return "", err
	}
	raw, ok := Block(page, marker)
	if !ok {
		return "", fmt.Errorf("%s shows no sample after %q", name, marker)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return "", fmt.Errorf("%s: the sample after %q: %w", name, marker, err)
	}
	return page, nil
}
