package metric_test

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// TestMetricsPageListsTheCatalog: docs/metrics.md's table has a row for
// every metric of the catalog (a row may name several: | `A`, `B` |) and
// none the catalog does not have.
func TestMetricsPageListsTheCatalog(t *testing.T) {
	b, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| (`[A-Za-z]+`(?:, `[A-Za-z]+`)*) \\|").FindAllStringSubmatch(string(b), -1) {
		for _, n := range strings.Split(m[1], ", ") {
			doc[strings.Trim(n, "`")] = true
		}
	}
	var catalog []string
	for _, s := range metric.Catalog {
		catalog = append(catalog, s.Name)
	}
	// The category table's rows (`user-pool-api`, ...) are not metrics:
	// only names that start upper case are.
	var listed []string
	for n := range maps.Keys(doc) {
		if n[0] >= 'A' && n[0] <= 'Z' {
			listed = append(listed, n)
		}
	}
	slices.Sort(catalog)
	slices.Sort(listed)
	if !slices.Equal(listed, catalog) {
		t.Errorf("docs/metrics.md lists %v\nthe catalog has %v", listed, catalog)
	}
}
