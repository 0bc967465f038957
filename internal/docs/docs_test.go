package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryPageListedAndLinked: every page under docs/ is in Files and
// linked from the README, and every relative link of every page reaches a
// file of the repository (and, for a #fragment, a heading of it).
func TestEveryPageListedAndLinked(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := Page(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		name := "docs/" + filepath.Base(p)
		if !slices.Contains(Files, name) {
			t.Errorf("%s is not in docs.Files", name)
		}
		if !strings.Contains(readme, "]("+name+")") {
			t.Errorf("README does not link %s", name)
		}
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range Files {
		text, err := Page(root, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.HasPrefix(target, "http") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			file := f
			if path != "" {
				file = filepath.ToSlash(filepath.Join(filepath.Dir(f), path))
			}
			body, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Errorf("%s: link %s: %v", f, target, err)
				continue
			}
			if frag != "" && !slices.Contains(anchors(string(body)), frag) {
				t.Errorf("%s: link %s: no such heading in %s", f, target, file)
			}
		}
	}
}

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(text string) []string {
	var out []string
	fence := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		h = strings.ReplaceAll(h, "`", "")
		h = regexp.MustCompile(`[^\w\- ]`).ReplaceAllString(h, "")
		out = append(out, strings.ReplaceAll(h, " ", "-"))
	}
	return out
}
