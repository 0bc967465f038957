package trailfile_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// recFirst is record i with its members in another order, first the given
// key: what tools that re-serialise records write.
func recFirst(first string, i int) string {
	members := map[string]string{
		"eventTime":         fmt.Sprintf(`"eventTime":"2026-11-20T10:%02d:00Z"`, i%60),
		"userIdentity":      `"userIdentity":{"type":"AWSService","invokedBy":"s3.amazonaws.com"}`,
		"eventVersion":      `"eventVersion":"1.08"`,
		"eventSource":       `"eventSource":"s3.amazonaws.com"`,
		"eventName":         `"eventName":"GetObject"`,
		"eventID":           fmt.Sprintf(`"eventID":"id-%d"`, i),
		"requestParameters": fmt.Sprintf(`"requestParameters":{"key":"k%d","list":[{"a":1},{"b":"x"}]}`, i),
	}
	order := []string{first}
	for _, k := range []string{"eventTime", "userIdentity", "eventVersion", "eventSource", "eventName", "eventID", "requestParameters"} {
		if k != first {
			order = append(order, k)
		}
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, members[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Damage in a file whose records do not start with eventVersion: the good
// records after it are read and counted (issue 17: 5 of 36 records read, 30
// good ones neither counted nor reported).
func TestResyncWhateverTheKeyOrder(t *testing.T) {
	damages := []struct{ name, from, to string }{
		{"stray quote", `"key":"k5"`, `"key":"k"5"`},
		{"unterminated string", `"key":"k5"`, `"key":"k5`},
		{"stray bracket and quote", `"key":"k5"`, `"key":["k5"}`},
		{"cut into the next record", "", ""},
	}
	for _, first := range []string{"eventTime", "userIdentity", "eventSource", "requestParameters"} {
		for _, d := range damages {
			t.Run(first+"/"+d.name, func(t *testing.T) {
				var parts []string
				for i := range 36 {
					r := recFirst(first, i)
					if i == 5 {
						r = strings.Replace(r, d.from, d.to, 1)
					}
					parts = append(parts, r)
				}
				file := `{"Records":[` + strings.Join(parts, ",\n") + "]}\n"
				if d.from == "" {
					// A cut: record 5 runs on into the middle of record 6.
					i5 := strings.Index(file, `"key":"k5"`)
					i6 := strings.Index(file, `"eventID":"id-6"`)
					file = file[:i5+4] + file[i6:]
				}
				for _, mode := range []string{"whole", "onebyte"} {
					in := strings.NewReader(file)
					var r *trailfile.Reader
					if mode == "whole" {
						r = trailfile.NewReader(in, nil)
					} else {
						r = trailfile.NewReader(iotest.OneByteReader(in), nil)
					}
					got := readChecked(t, r)
					if got.err != nil {
						t.Fatalf("%s: error %v", mode, got.err)
					}
					wantGood := 35
					if d.name == "cut into the next record" {
						wantGood = 34 // record 6 is merged into the damage
					}
					if got.good != wantGood || got.bad != 1 {
						t.Errorf("%s: %d good, %d bad records, want %d and 1: %v", mode, got.good, got.bad, wantGood, got.ids)
					}
					if d.from == "" && strings.Contains(fmt.Sprint(got.ids), "id-6 ") {
						t.Errorf("%s: the record cut in two was read: %v", mode, got.ids)
					}
					if len(got.ids) > 0 && got.ids[len(got.ids)-1] != "id-35" {
						t.Errorf("%s: the last record read is %s, want id-35", mode, got.ids[len(got.ids)-1])
					}
				}
			})
		}
	}
}
