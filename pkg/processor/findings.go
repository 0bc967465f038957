package processor

import (
	"context"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/notify"
)

// findingState binds a remote state (the ledger table) to the invocation's
// context, so that its calls end with the invocation.
func (h *Handler) findingState(ctx context.Context) finding.State {
	if cs, ok := h.opts.FindingState.(finding.ContextState); ok {
		return cs.WithContext(ctx)
	}
	return h.opts.FindingState
}

// Notifier sends findings to people (notify.Notifier).
type Notifier interface {
	Notify(ctx context.Context, fs []finding.Finding) (notify.Stats, error)
}

// collect keeps a record's findings for the notifier (the engine reuses
// its slice for the next record).
func (h *Handler) collect(kept []finding.Finding, fs []finding.Finding) []finding.Finding {
	if h.opts.Notifier == nil {
		return kept
	}
	return append(kept, fs...)
}

// notify sends an object's findings once the object is published and
// marked done: a failure here cannot be retried by failing the object (the
// retry would find it done), so it is logged, and the notices the ledger
// marked failed are sent by a later pass over the same record.
func (h *Handler) notify(ctx context.Context, o notification.Object, fs []finding.Finding) {
	if h.opts.Notifier == nil || len(fs) == 0 {
		return
	}
	st, err := h.opts.Notifier.Notify(ctx, fs)
	if err != nil {
		h.log.ErrorContext(ctx, "findings not notified", "bucket", o.Bucket, "key", o.Key,
			"sent", st.Sent, "error", err.Error())
		return
	}
	if st.Sent > 0 || st.Duplicates > 0 {
		h.log.DebugContext(ctx, "findings notified", "key", o.Key, "sent", st.Sent, "duplicates", st.Duplicates)
	}
}
