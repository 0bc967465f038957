// Package securityhub imports findings into AWS Security Hub, in the AWS
// Security Finding Format, under the account's default product
// (arn:aws:securityhub:<region>:<account>:product/<account>/default): a
// change or attack finding once per event and finding, a posture finding
// once per finding and resource, updated by every later import (the Id is
// stable), and archived as resolved when a posture run no longer finds it.
package securityhub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

// API is the part of the Security Hub client used.
type API interface {
	BatchImportFindings(ctx context.Context, in *sh.BatchImportFindingsInput, optFns ...func(*sh.Options)) (*sh.BatchImportFindingsOutput, error)
	GetFindings(ctx context.Context, in *sh.GetFindingsInput, optFns ...func(*sh.Options)) (*sh.GetFindingsOutput, error)
}

// Limits and defaults.
const (
	// MaxPerRequest is BatchImportFindings' limit.
	MaxPerRequest = 100
	// DefaultRetries is how many times findings the answer lists as failed
	// are sent again before they are reported.
	DefaultRetries = 2
)

// ProductARN is the account's default product in region.
func ProductARN(region, account string) string {
	return "arn:aws:securityhub:" + region + ":" + account + ":product/" + account + "/default"
}

const generator = "cognitrail/"

// ResourceARN names a pool, client or identity pool as an ARN.
func ResourceARN(typ, region, account, id, pool string) string {
	switch typ {
	case posture.TypeIdentityPool:
		return "arn:aws:cognito-identity:" + region + ":" + account + ":identitypool/" + id
	case posture.TypeClient:
		return "arn:aws:cognito-idp:" + region + ":" + account + ":userpool/" + pool + "/client/" + id
	}
	return "arn:aws:cognito-idp:" + region + ":" + account + ":userpool/" + id
}

func label(s string) types.SeverityLabel {
	if strings.EqualFold(s, "high") {
		return types.SeverityLabelHigh
	}
	return types.SeverityLabelMedium
}

func base(id, name, severity, account, region string, at time.Time) types.AwsSecurityFinding {
	spec, _ := finding.Lookup(name)
	desc := spec.Trigger
	if desc == "" {
		desc = name
	}
	// Security Hub limits a description to 1024 characters.
	desc = desc[:min(len(desc), 1024)]
	ts := at.UTC().Format(time.RFC3339)
	return types.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"),
		Id:            aws.String(id),
		ProductArn:    aws.String(ProductARN(region, account)),
		GeneratorId:   aws.String(generator + name),
		AwsAccountId:  aws.String(account),
		Region:        aws.String(region),
		CreatedAt:     aws.String(ts),
		UpdatedAt:     aws.String(ts),
		Severity:      &types.Severity{Label: label(severity)},
		Title:         aws.String(name),
		Description:   aws.String(desc),
		RecordState:   types.RecordStateActive,
		Workflow:      &types.Workflow{Status: types.WorkflowStatusNew},
	}
}

// FromFinding converts a change or attack finding.
func FromFinding(f finding.Finding) types.AwsSecurityFinding {
	a := base(generator+f.EventID+"/"+f.Name, f.Name, f.Severity.String(), f.Account, f.Region, f.Time)
	a.Types = []string{"Software and Configuration Checks/AWS Security Best Practices/Configuration Change"}
	if f.Count > 0 {
		a.Types = []string{"TTPs/Credential Access/Brute Force"}
	}
	typ, id := posture.TypeUserPool, f.UserPoolID
	switch {
	case f.ClientID != "" && f.UserPoolID != "":
		typ, id = posture.TypeClient, f.ClientID
	case f.IdentityPoolID != "":
		typ, id = posture.TypeIdentityPool, f.IdentityPoolID
	}
	r := types.Resource{Type: aws.String("Other"), Id: aws.String("arn:aws:cognito-idp:" + f.Region + ":" + f.Account + ":unknown"),
		Region: aws.String(f.Region), Partition: types.PartitionAws}
	if id != "" {
		r.Id = aws.String(ResourceARN(typ, f.Region, f.Account, id, f.UserPoolID))
	}
	a.Resources = []types.Resource{r}
	fields := map[string]string{"cognitrail/operation": f.Operation, "cognitrail/eventID": f.EventID}
	if f.Actor != "" {
		fields["cognitrail/actor"] = f.Actor
	}
	if f.SourceIP != "" {
		fields["cognitrail/sourceIPAddress"] = f.SourceIP
	}
	if s := finding.FormatSettings(f.Settings); s != "" {
		fields["cognitrail/settings"] = s[:min(len(s), 1024)]
	}
	a.ProductFields = fields
	return a
}

// FromPosture converts the rows of one posture finding on one resource
// (one row per setting) into one Security Hub finding.
func FromPosture(rows []posture.Row) types.AwsSecurityFinding {
	r := rows[0]
	a := base(r.UID(), r.Finding, r.Severity, r.Account, r.Region, r.Time)
	a.Types = []string{"Software and Configuration Checks/AWS Security Best Practices"}
	a.Resources = []types.Resource{{Type: aws.String("Other"), Id: aws.String(ResourceARN(r.ResourceType, r.Region, r.Account, r.Resource, r.Pool)),
		Region: aws.String(r.Region), Partition: types.PartitionAws}}
	a.Compliance = &types.Compliance{Status: types.ComplianceStatusFailed}
	if r.Control != "" {
		a.Compliance.RelatedRequirements = []string{"Security Hub CSPM " + r.Control}
	}
	fields := map[string]string{"cognitrail/source": posture.Source}
	for _, x := range rows {
		if x.Setting != "" {
			fields["cognitrail/setting/"+x.Setting] = x.Value[:min(len(x.Value), 1024)]
		}
	}
	a.ProductFields = fields
	return a
}

// GroupPosture groups posture rows by finding and resource, in order.
func GroupPosture(rows []posture.Row) [][]posture.Row {
	var out [][]posture.Row
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1][0].UID() == r.UID() {
			out[n-1] = append(out[n-1], r)
			continue
		}
		out = append(out, []posture.Row{r})
	}
	return out
}

// Importer sends findings.
type Importer struct {
	api     API
	retries int
}

// New returns an Importer on api (a *securityhub.Client, built once).
// retries zero means DefaultRetries, negative none.
func New(api API, retries int) *Importer {
	if retries == 0 {
		retries = DefaultRetries
	}
	return &Importer{api: api, retries: max(retries, 0)}
}

// Import sends fs in requests of MaxPerRequest, sending again those the
// answer lists as failed, and returns the error of those that still fail.
func (im *Importer) Import(ctx context.Context, fs []types.AwsSecurityFinding) (imported int, err error) {
	var errs []error
	for chunk := range slices.Chunk(fs, MaxPerRequest) {
		pending := chunk
		for try := 0; len(pending) > 0; try++ {
			out, err := im.api.BatchImportFindings(ctx, &sh.BatchImportFindingsInput{Findings: pending})
			if err != nil {
				return imported, fmt.Errorf("securityhub: BatchImportFindings: %w", err)
			}
			imported += int(aws.ToInt32(out.SuccessCount))
			failed := map[string]types.ImportFindingsError{}
			for _, f := range out.FailedFindings {
				failed[aws.ToString(f.Id)] = f
			}
			var again []types.AwsSecurityFinding
			for _, f := range pending {
				if e, ok := failed[aws.ToString(f.Id)]; ok {
					if try >= im.retries {
						errs = append(errs, fmt.Errorf("securityhub: %s: %s: %s", aws.ToString(f.Id), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)))
						continue
					}
					again = append(again, f)
				}
			}
			pending = again
		}
	}
	return imported, errors.Join(errs...)
}

// Resolve archives the active posture findings of account and region that
// current (the run's findings) no longer has: the setting was made safe.
// It returns how many it archived.
func (im *Importer) Resolve(ctx context.Context, account, region string, current []types.AwsSecurityFinding, at time.Time) (int, error) {
	prefix := "cognitrail/posture/" + account + "/" + region + "/"
	keep := map[string]bool{}
	for _, f := range current {
		keep[aws.ToString(f.Id)] = true
	}
	var stale []types.AwsSecurityFinding
	var token *string
	for {
		out, err := im.api.GetFindings(ctx, &sh.GetFindingsInput{
			Filters: &types.AwsSecurityFindingFilters{
				ProductArn:  []types.StringFilter{{Value: aws.String(ProductARN(region, account)), Comparison: types.StringFilterComparisonEquals}},
				Id:          []types.StringFilter{{Value: aws.String(prefix), Comparison: types.StringFilterComparisonPrefix}},
				RecordState: []types.StringFilter{{Value: aws.String(string(types.RecordStateActive)), Comparison: types.StringFilterComparisonEquals}},
			},
			MaxResults: aws.Int32(100),
			NextToken:  token,
		})
		if err != nil {
			return 0, fmt.Errorf("securityhub: GetFindings: %w", err)
		}
		for _, f := range out.Findings {
			// The filters again: an emulator may not apply them.
			id := aws.ToString(f.Id)
			if !strings.HasPrefix(id, prefix) || f.RecordState != types.RecordStateActive || keep[id] {
				continue
			}
			f.RecordState = types.RecordStateArchived
			f.Workflow = &types.Workflow{Status: types.WorkflowStatusResolved}
			f.Compliance = &types.Compliance{Status: types.ComplianceStatusPassed}
			f.UpdatedAt = aws.String(at.UTC().Format(time.RFC3339))
			stale = append(stale, f)
		}
		if token = out.NextToken; token == nil || *token == "" {
			break
		}
	}
	n, err := im.Import(ctx, stale)
	return n, err
}

// ImportPosture imports one posture run's rows of account and region, a
// finding per (finding, resource) with the control it fails, and, when
// resolve (the run judged every setting there), archives as resolved the
// findings of earlier runs it no longer has. The command and the
// function's scheduled run both use it.
func (im *Importer) ImportPosture(ctx context.Context, account, region string, rows []posture.Row, resolve bool, at time.Time) (imported, resolved int, err error) {
	var fs []types.AwsSecurityFinding
	for _, g := range GroupPosture(rows) {
		fs = append(fs, FromPosture(g))
	}
	if imported, err = im.Import(ctx, fs); err != nil || !resolve {
		return imported, 0, err
	}
	resolved, err = im.Resolve(ctx, account, region, fs, at)
	return imported, resolved, err
}
