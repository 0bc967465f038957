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
	page, err := docs.Page(filepath.Join("..", ".."), "docs/posture.md")
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := docs.Block(page, "A row, `--format jsonl`:")
	if !ok {
		t.Fatal("docs/posture.md shows no jsonl row")
	}
	var r posture.Row
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
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
