package metric_test

import (
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// sanitizeCases are the documented rule, case by case; they also seed
// FuzzSanitizeDimensionValue.
var sanitizeCases = []struct {
	name, in, want string
}{
	{"operation", "InitiateAuth", "InitiateAuth"},
	{"pool id", "eu-west-1_AbCdEf123", "eu-west-1_AbCdEf123"},
	{"endpoint operation", "Login_POST", "Login_POST"},
	{"inner spaces kept", "a b", "a b"},
	{"punctuation kept", `~!@#$%^&*()[]{}<>?/\|"';:.,+=`, `~!@#$%^&*()[]{}<>?/\|"';:.,+=`},
	{"invalid UTF-8 from the trail", "Init\xff\xfeAuth", "Init__Auth"},
	{"replacement characters the JSON decoder made", "Init\ufffd\ufffdAuth", "Init__Auth"},
	{"non-ASCII letter is one character", "Région", "R_gion"},
	{"emoji", "sign-in 🔑", "sign-in _"},
	{"control characters", "a\tb\nc\x00d\x7f", "a_b_c_d_"},
	{"empty", "", metric.EmptyDimensionValue},
	{"only spaces", "   ", metric.EmptyDimensionValue},
	{"1024 characters kept", strings.Repeat("x", 1024), strings.Repeat("x", 1024)},
	{"1025 characters cut", strings.Repeat("x", 1025), strings.Repeat("x", 1024)},
	{"cut counts replaced characters", strings.Repeat("é", 1100), strings.Repeat("_", 1024)},
	{"cut leaving only spaces", strings.Repeat(" ", 1024) + "x", metric.EmptyDimensionValue},
}

func TestSanitizeDimensionValue(t *testing.T) {
	for _, c := range sanitizeCases {
		if got := metric.SanitizeDimensionValue(c.in); got != c.want {
			t.Errorf("%s: SanitizeDimensionValue(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

// acceptedByCloudWatch is the Dimension.Value constraint as the
// PutMetricData API reference states it: 1 to 1024 characters, ASCII only,
// no ASCII control characters, at least one non-whitespace character.
func acceptedByCloudWatch(v string) bool {
	if len(v) < 1 || len(v) > 1024 {
		return false
	}
	nonSpace := false
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] >= 0x7f {
			return false
		}
		nonSpace = nonSpace || v[i] != ' '
	}
	return nonSpace
}

func FuzzSanitizeDimensionValue(f *testing.F) {
	for _, c := range sanitizeCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := metric.SanitizeDimensionValue(in)
		if !acceptedByCloudWatch(out) {
			t.Fatalf("SanitizeDimensionValue(%q) = %q: CloudWatch refuses it", in, out)
		}
		if again := metric.SanitizeDimensionValue(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if acceptedByCloudWatch(in) && out != in {
			t.Fatalf("an acceptable value was changed: %q -> %q", in, out)
		}
	})
}
