package processor

import (
	"context"
	"fmt"
	"time"

	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
)

// Notifier sends findings to people (alert.Notifier).
type Notifier interface {
	Notify(ctx context.Context, fs []finding.Finding, until time.Time) (alert.Stats, error)
}

// collect keeps a record's findings for the notifier (the engine reuses
// its slice for the next record).
func (h *Handler) collect(kept []finding.Finding, fs []finding.Finding) []finding.Finding {
	if h.opts.Notifier == nil {
		return kept
	}
	return append(kept, fs...)
}

// notify sends an object's (or a batch's) findings before its datums are
// published and it is marked done, so that a failure or a crash after
// leaves it to the retry, which reads it again (or the batch item's
// record) and sends what was not sent (the ledger's notices send each
// once). A failure a retry can
// cure is returned, and fails the object; one it cannot (the topic, its
// key or the grant must be fixed) is logged, and the object goes on.
func (h *Handler) notify(ctx context.Context, where string, fs []finding.Finding) error {
	if h.opts.Notifier == nil || len(fs) == 0 {
		return nil
	}
	st, err := h.opts.Notifier.Notify(ctx, fs, h.lease(ctx))
	switch {
	case fault.Permanent(err):
		h.log.ErrorContext(ctx, "findings not notified", "object", where, "sent", st.Sent, "error", err.Error())
		return nil
	case err != nil:
		return fmt.Errorf("processor: %s: notify: %w", where, err)
	}
	if st.Unmarked > 0 {
		h.log.WarnContext(ctx, "findings sent but not marked sent", "object", where, "unmarked", st.Unmarked)
	}
	if st.Sent > 0 || st.Duplicates > 0 {
		h.log.DebugContext(ctx, "findings notified", "object", where, "sent", st.Sent, "duplicates", st.Duplicates)
	}
	return nil
}
