package lambdaapp

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/docs"
)

// TestREADMEConfigurationListsEveryVariable: the README's Configuration
// table has one row per environment variable ConfigFromEnv reads (asked
// of its getenv, not read from the source), and none it does not read.
func TestREADMEConfigurationListsEveryVariable(t *testing.T) {
	var code []string
	ConfigFromEnv(func(k string) string {
		code = append(code, k)
		return ""
	})
	code = slices.Compact(slices.Sorted(slices.Values(code)))
	readme, err := docs.Read(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(readme, "## Configuration\n")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no Configuration section")
	}
	var doc []string
	// A row names one variable, or several: | `A`, `B` |.
	for _, m := range regexp.MustCompile("(?m)^\\| (`[A-Z0-9_]+`(?:, `[A-Z0-9_]+`)*) \\|").FindAllStringSubmatch(readme[start:start+1+end], -1) {
		for _, v := range strings.Split(m[1], ", ") {
			doc = append(doc, strings.Trim(v, "`"))
		}
	}
	slices.Sort(code)
	slices.Sort(doc)
	if len(code) < 15 || !slices.Equal(code, doc) {
		t.Errorf("config.go reads %v\nREADME's Configuration table lists %v", code, doc)
	}
}
