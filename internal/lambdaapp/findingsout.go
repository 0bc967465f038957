package lambdaapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/alert"
	cfault "github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/posture"
	"github.com/cognitrail/cognitrail/pkg/securityhub"
)

// findingsOut is where the function's findings go: people, by SNS (from
// the lowest severity configured), and Security Hub (every finding), each
// when configured. The processor and the posture run hand it their
// findings as they would the SNS notifier alone.
type findingsOut struct {
	sns *alert.Notifier
	hub *securityhub.Importer
}

func (o findingsOut) on() bool { return o.sns != nil || o.hub != nil }

// Notify sends fs to each destination. SNS first, under its notices (a
// retry sends nothing twice); then Security Hub, whose findings have
// stable ids, so that importing again after a failure updates them rather
// than doubling them. A refusal that a retry cannot cure (Security Hub not
// enabled in the Region, the grant missing) is permanent: the processor
// logs it and goes on, rather than failing every trail file.
func (o findingsOut) Notify(ctx context.Context, fs []finding.Finding, until time.Time) (alert.Stats, error) {
	var st alert.Stats
	if o.sns != nil {
		var err error
		if st, err = o.sns.Notify(ctx, fs, until); err != nil {
			return st, err
		}
	}
	if o.hub == nil || len(fs) == 0 {
		return st, nil
	}
	asff := make([]types.AwsSecurityFinding, len(fs))
	for i, f := range fs {
		asff[i] = securityhub.FromFinding(f)
	}
	if _, err := o.hub.Import(ctx, asff); err != nil {
		err = fmt.Errorf("security hub: %w", err)
		if hubRefused(err) {
			err = cfault.Mark(err)
		}
		return st, err
	}
	return st, nil
}

// hubRefused: Security Hub refused the caller, not the moment.
func hubRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidAccessException", "AccessDeniedException", "InvalidInputException":
		return true
	}
	return false
}

// hubRows imports each scheduled posture run's rows into Security Hub as
// `posture --security-hub` does (posture.RowSink): with the control each
// fails, and a finding an earlier run imported archived as resolved once a
// complete run no longer has it.
type hubRows struct{ im *securityhub.Importer }

func (h hubRows) PostureRows(ctx context.Context, account, region string, rows []posture.Row, complete bool, at time.Time) error {
	_, _, err := h.im.ImportPosture(ctx, account, region, rows, complete, at)
	if err != nil && hubRefused(err) {
		err = cfault.Mark(err)
	}
	return err
}
