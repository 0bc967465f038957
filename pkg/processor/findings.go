package processor

import (
	"context"

	"github.com/cognitrail/cognitrail/pkg/finding"
)

// findingState binds a remote state (the ledger table) to the invocation's
// context, so that its calls end with the invocation.
func (h *Handler) findingState(ctx context.Context) finding.State {
	if cs, ok := h.opts.FindingState.(finding.ContextState); ok {
		return cs.WithContext(ctx)
	}
	return h.opts.FindingState
}
