package fault_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/fault"
)

var errGone = fault.New("gone")

func TestPermanent(t *testing.T) {
	transient := errors.New("connection reset")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", transient, false},
		{"deadline", context.DeadlineExceeded, false},
		{"sentinel", errGone, true},
		{"wrapped sentinel", fmt.Errorf("s3://b/k: %w", errGone), true},
		{"sentinel beside a transient cause", fmt.Errorf("put: %w: %w", errGone, transient), true},
		{"marked", fault.Mark(transient), true},
		{"wrapped mark", fmt.Errorf("notify: %w", fault.Mark(transient)), true},
		{"mark of nil", fault.Mark(nil), false},
	} {
		if got := fault.Permanent(tc.err); got != tc.want {
			t.Errorf("%s: Permanent(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestSentinelIdentity(t *testing.T) {
	other := fault.New("gone")
	if errors.Is(fmt.Errorf("x: %w", errGone), other) || !errors.Is(fmt.Errorf("x: %w", errGone), errGone) {
		t.Fatal("sentinels must match by identity, as errors.New's do")
	}
	marked := fault.Mark(errThrottled)
	if !errors.Is(marked, errThrottled) || marked.Error() != errThrottled.Error() {
		t.Fatalf("Mark must keep the error's chain and message: %v", marked)
	}
}

var errThrottled = errors.New("throttled")
