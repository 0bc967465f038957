package securityhub

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cognitrail/cognitrail/internal/docs"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

// docsRow is the posture row docs/posture.md shows.
func docsRow(t *testing.T) (string, posture.Row) {
	t.Helper()
	var r posture.Row
	page, err := docs.JSONBlock(filepath.Join("..", ".."), "docs/posture.md", "A row, `--format jsonl`:", &r)
	if err != nil {
		t.Fatal(err)
	}
	return page, r
}

// compact drops the members the SDK's types leave null or empty, which
// Security Hub's API does not send: the finding as a reader sees it.
func compact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = compact(e); e == nil || e == "" {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = compact(x[i])
		}
	}
	return v
}

// TestDocsSample: the Security Hub finding docs/posture.md shows is the one
// the page's posture row is imported as.
func TestDocsSample(t *testing.T) {
	page, row := docsRow(t)
	raw, err := json.Marshal(FromPosture([]posture.Row{row}))
	if err != nil {
		t.Fatal(err)
	}
	var g any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(compact(g), "", "  ")
	want, ok := docs.Block(page, "The row above, imported:")
	var w any
	if ok {
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatalf("the page's sample: %v", err)
		}
	}
	if !ok || !reflect.DeepEqual(compact(g), w) {
		t.Errorf("docs/posture.md's Security Hub sample should read:\n%s", got)
	}
}
