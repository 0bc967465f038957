package item

import (
	"strings"
	"testing"
)

// No key of one kind can be a key of another: no prefix starts another
// (or equals it), and none starts with the quote object keys start with.
func TestPrefixesApart(t *testing.T) {
	for i, p := range Prefixes {
		if p == "" || strings.HasPrefix(p, `"`) || !strings.HasSuffix(p, "#") {
			t.Errorf("prefix %q: want a non-empty name ending in # and not starting with a quote", p)
		}
		for j, q := range Prefixes {
			if i != j && strings.HasPrefix(q, p) {
				t.Errorf("prefix %q starts %q: their keys could collide", p, q)
			}
		}
	}
}
