package finding

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/docs"
)

// catalogTable renders the catalog as the README's Findings table.
func catalogTable() string {
	var b strings.Builder
	b.WriteString("| finding | severity | trigger | AWS reference |\n|---|---|---|---|\n")
	for _, s := range Catalog {
		refs := make([]string, len(s.Sources))
		for i, u := range s.Sources {
			name := u[strings.LastIndexByte(u, '/')+1:]
			name = strings.TrimSuffix(strings.TrimPrefix(name, "API_"), ".html")
			refs[i] = fmt.Sprintf("[%s](%s)", name, u)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, s.Severity, s.Trigger, strings.Join(refs, ", "))
	}
	return b.String()
}

// TestREADMECatalog: the README's Findings table is the code's catalog, so
// the two cannot drift.
func TestREADMECatalog(t *testing.T) {
	s, err := docs.Read(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- findings-catalog -->\n", "<!-- /findings-catalog -->"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README has no %q ... %q block", begin, end)
	}
	if got, want := s[i+len(begin):j], catalogTable(); got != want {
		t.Errorf("README's findings table differs from the catalog; it should read:\n%s", want)
	}
}
