package ocsf

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cognitrail/cognitrail/internal/docs"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

// TestDocsSample: the OCSF line docs/posture.md shows is the page's posture
// row written with --format ocsf (the product's version left out).
func TestDocsSample(t *testing.T) {
	var r posture.Row
	page, err := docs.JSONBlock(filepath.Join("..", ".."), "docs/posture.md", "A row, `--format jsonl`:", &r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(FromPosture(r, Product{Name: "cognitrail", VendorName: "cognitrail"}))
	if err != nil {
		t.Fatal(err)
	}
	want, ok := docs.Block(page, "The row above, `--format ocsf`")
	var g, w any
	_ = json.Unmarshal(got, &g)
	if ok {
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatalf("the page's sample: %v", err)
		}
	}
	if !ok || !reflect.DeepEqual(g, w) {
		t.Errorf("docs/posture.md's OCSF sample should read:\n%s", got)
	}
}
