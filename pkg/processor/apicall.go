package processor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// apiCall evaluates the CloudTrail record of an EventBridge "AWS API Call
// via CloudTrail" event and notifies its findings. It publishes no metric
// and leaves the finding state as it is: the trail file that holds the same
// record, minutes later, counts it and moves the state on, so nothing is
// counted twice and the trail pass raises the same findings, whose
// notices (ledger finding# items) are then already taken. It returns an
// error only when a retry may succeed (the state or SNS failed).
func (h *Handler) apiCall(ctx context.Context, raw json.RawMessage) error {
	var r record.Record
	if _, err := record.NewParser().Parse(raw, &r); err != nil {
		// The same record fails again: not worth a retry. The parser
		// keeps what it read before the fault: naming the call tells
		// which one was lost (the trail file still counts it).
		attrs := []any{"outcome", "rejected"}
		if r.EventSource != "" {
			attrs = append(attrs, "eventSource", r.EventSource)
		}
		if r.EventName != "" {
			attrs = append(attrs, "eventName", r.EventName)
		}
		h.log.ErrorContext(ctx, "api call", append(attrs, "error", err.Error())...)
		return nil
	}
	c := class.Classify(&r)
	eng := finding.New(&finding.Options{State: h.opts.FindingState, SignInThreshold: h.opts.SignInThreshold})
	eng.StartFile()
	fs := slices.Clone(eng.Observe(ctx, &r, &c, raw))
	if err := eng.Err(); err != nil {
		h.log.ErrorContext(ctx, "api call", "eventID", r.EventID, "outcome", "error", "error", err.Error())
		return fmt.Errorf("processor: event %s: %w", r.EventID, err)
	}
	if rej := eng.Rejected(); rej != nil {
		// A wrongly typed setting: judged by no rule, as in a trail file,
		// and the same on every retry. Named, so the call is not lost
		// without a word.
		h.log.ErrorContext(ctx, "api call", "eventSource", r.EventSource, "eventName", r.EventName, "eventID", r.EventID,
			"outcome", "rejected", "error", rej.Error())
		return nil
	}
	attrs := []any{"eventSource", r.EventSource, "eventName", r.EventName, "eventID", r.EventID, "findings", len(fs)}
	if h.opts.Notifier != nil && len(fs) > 0 {
		st, err := h.opts.Notifier.Notify(ctx, fs, h.lease(ctx))
		attrs = append(attrs, "notified", st.Sent, "duplicates", st.Duplicates)
		if err != nil {
			h.log.ErrorContext(ctx, "api call", append(attrs, "outcome", "error", "error", err.Error())...)
			return fmt.Errorf("processor: event %s: %w", r.EventID, err)
		}
	}
	h.log.InfoContext(ctx, "api call", append(attrs, "outcome", "processed")...)
	return nil
}
