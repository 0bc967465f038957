package posture

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/cognitrail/cognitrail/pkg/finding"
)

// TrailAPI is the part of the CloudTrail client ReadCoverage uses.
type TrailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

// TypeTrails is the resource type of a coverage row: the Region's trails.
const TypeTrails = "AWS::CloudTrail::Trail"

// Coverage says which trails of a Region record what cognitrail reads.
type Coverage struct {
	Region string `json:"region"`
	// Management lists the trails that log Cognito's management events
	// (every configuration change and user pool API call).
	Management []string `json:"managementEvents"`
	// IdentityPoolData lists those that log identity pool data events
	// (GetId, GetCredentialsForIdentity, ...), off unless selected.
	IdentityPoolData []string `json:"identityPoolDataEvents"`
}

// ReadCoverage reads the trails that apply to the Region and their event
// selectors, and returns a row for what no trail records: no management
// events blinds every finding; no identity pool data events blinds the
// guest credential and role call detections.
func ReadCoverage(ctx context.Context, api TrailAPI, opts Options) (Coverage, []Row, error) {
	cov := Coverage{Region: opts.Region}
	out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		return cov, nil, fmt.Errorf("posture: %s: DescribeTrails: %w", opts.Region, err)
	}
	var names []string
	for _, t := range out.TrailList {
		if !aws.ToBool(t.IsMultiRegionTrail) && aws.ToString(t.HomeRegion) != opts.Region {
			continue
		}
		name := aws.ToString(t.Name)
		names = append(names, name)
		sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: t.TrailARN})
		if err != nil {
			return cov, nil, fmt.Errorf("posture: %s: GetEventSelectors %s: %w", opts.Region, name, err)
		}
		mgmt, data := judgeSelectors(sel)
		if mgmt {
			cov.Management = append(cov.Management, name)
		}
		if data {
			cov.IdentityPoolData = append(cov.IdentityPoolData, name)
		}
	}
	slices.Sort(names)
	checked := strings.Join(names, " ")
	if checked == "" {
		checked = "none"
	}
	row := func(name string) Row {
		r := Row{Finding: name, Account: opts.Account, Region: opts.Region, Resource: "cloudtrail/" + opts.Region,
			ResourceType: TypeTrails, Setting: "trails", Value: checked, Source: Source}
		if s, ok := finding.Lookup(name); ok {
			r.Severity = s.Severity.String()
		}
		if opts.Now != nil {
			r.Time = opts.Now().UTC()
		}
		return r
	}
	var rows []Row
	if len(cov.Management) == 0 {
		rows = append(rows, row(finding.CoverageManagementEventsOff))
	}
	if len(cov.IdentityPoolData) == 0 {
		rows = append(rows, row(finding.CoverageIdentityPoolDataEventsOff))
	}
	return cov, rows, nil
}

// judgeSelectors tells whether a trail's selectors log Cognito's
// management events and identity pool data events. No selectors at all
// is CloudTrail's default: management events, read and write.
func judgeSelectors(sel *cloudtrail.GetEventSelectorsOutput) (mgmt, data bool) {
	if len(sel.EventSelectors) == 0 && len(sel.AdvancedEventSelectors) == 0 {
		return true, false
	}
	for _, s := range sel.EventSelectors {
		if (s.IncludeManagementEvents == nil || *s.IncludeManagementEvents) && s.ReadWriteType != cttypes.ReadWriteTypeReadOnly &&
			!slices.Contains(s.ExcludeManagementEventSources, "cognito-idp.amazonaws.com") {
			mgmt = true
		}
	}
	for _, a := range sel.AdvancedEventSelectors {
		category, types, readOnly := "", []string(nil), false
		excluded := false
		for _, f := range a.FieldSelectors {
			switch aws.ToString(f.Field) {
			case "eventCategory":
				if len(f.Equals) > 0 {
					category = f.Equals[0]
				}
			case "resources.type":
				types = append(types, f.Equals...)
			case "readOnly":
				readOnly = slices.Contains(f.Equals, "true")
			case "eventSource":
				excluded = excluded || slices.Contains(f.NotEquals, "cognito-idp.amazonaws.com") ||
					(len(f.Equals) > 0 && !slices.Contains(f.Equals, "cognito-idp.amazonaws.com"))
			}
		}
		switch category {
		case "Management":
			mgmt = mgmt || (!readOnly && !excluded)
		case "Data":
			data = data || slices.Contains(types, "AWS::Cognito::IdentityPool")
		}
	}
	return mgmt, data
}
