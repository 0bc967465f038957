package posture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// UserPoolAPI is the part of the cognito-idp client Read uses: read-only
// calls, each granted by the template only with the posture schedule.
type UserPoolAPI interface {
	ListUserPools(ctx context.Context, in *cip.ListUserPoolsInput, optFns ...func(*cip.Options)) (*cip.ListUserPoolsOutput, error)
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
	GetUserPoolMfaConfig(ctx context.Context, in *cip.GetUserPoolMfaConfigInput, optFns ...func(*cip.Options)) (*cip.GetUserPoolMfaConfigOutput, error)
	GetLogDeliveryConfiguration(ctx context.Context, in *cip.GetLogDeliveryConfigurationInput, optFns ...func(*cip.Options)) (*cip.GetLogDeliveryConfigurationOutput, error)
	ListUserPoolClients(ctx context.Context, in *cip.ListUserPoolClientsInput, optFns ...func(*cip.Options)) (*cip.ListUserPoolClientsOutput, error)
	DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
}

// IdentityPoolAPI is the part of the cognito-identity client Read uses.
type IdentityPoolAPI interface {
	ListIdentityPools(ctx context.Context, in *ci.ListIdentityPoolsInput, optFns ...func(*ci.Options)) (*ci.ListIdentityPoolsOutput, error)
	DescribeIdentityPool(ctx context.Context, in *ci.DescribeIdentityPoolInput, optFns ...func(*ci.Options)) (*ci.DescribeIdentityPoolOutput, error)
	GetIdentityPoolRoles(ctx context.Context, in *ci.GetIdentityPoolRolesInput, optFns ...func(*ci.Options)) (*ci.GetIdentityPoolRolesOutput, error)
}

// DefaultRequestsPerSecond paces the calls of one Region: Cognito's
// read quotas are per account and shared with the applications' own calls.
const DefaultRequestsPerSecond = 5

// Options configure Read.
type Options struct {
	// Account and Region are written on every row (and name the ARNs).
	Account, Region string
	// RequestsPerSecond paces the calls: zero means
	// DefaultRequestsPerSecond, negative unpaced.
	RequestsPerSecond float64
	// Now dates the rows; nil means time.Now.
	Now func() time.Time
	// Track, when set, also judges every setting read against the finding
	// state it holds (see Tracker): the scheduled run in the function.
	Track *Tracker
}

// Source is the Row.Source of a posture row.
const Source = "posture"

// Row is one risky setting as it is now.
type Row struct {
	Finding  string `json:"finding"`
	Severity string `json:"severity"`
	// Control is the Security Hub CSPM control the setting fails, when one
	// applies (Controls).
	Control  string `json:"control,omitempty"`
	Account  string `json:"account"`
	Region   string `json:"region"`
	Resource string `json:"resource"`
	// ResourceType is the resource's CloudFormation type:
	// AWS::Cognito::UserPool, AWS::Cognito::UserPoolClient or
	// AWS::Cognito::IdentityPool.
	ResourceType string    `json:"resourceType"`
	Setting      string    `json:"setting,omitempty"`
	Value        string    `json:"value,omitempty"`
	Source       string    `json:"source"`
	Time         time.Time `json:"time"`
	// Pool is the user pool of an app client row.
	Pool string `json:"userPoolId,omitempty"`
}

// The resource types of a row.
const (
	TypeUserPool     = "AWS::Cognito::UserPool"
	TypeClient       = "AWS::Cognito::UserPoolClient"
	TypeIdentityPool = "AWS::Cognito::IdentityPool"
)

// UID is the row's finding's stable id: account, Region, finding and
// resource (a setting of the same finding is the same finding), so that a
// later run's row updates it wherever it is kept (Security Hub, OCSF).
func (r Row) UID() string {
	return "cognitrail/posture/" + r.Account + "/" + r.Region + "/" + r.Finding + "/" + r.Resource
}

// Controls maps a finding to the Security Hub CSPM control for Amazon
// Cognito it judges ("Security Hub CSPM controls for Amazon Cognito").
// Cognito.4 (threat protection for custom authentication) is not judged:
// DescribeUserPool's AdvancedSecurityAdditionalFlows is read by no rule yet.
var Controls = map[string]string{
	finding.UserPoolThreatProtectionReduced:    "Cognito.1",
	finding.IdentityPoolGuestAccessEnabled:     "Cognito.2",
	finding.UserPoolWeakPasswordPolicy:         "Cognito.3",
	finding.UserPoolMFADisabled:                "Cognito.5",
	finding.UserPoolDeletionProtectionDisabled: "Cognito.6",
}

// rules are the findings a configuration as it is can raise: the change
// findings whose setting is a state (not "was changed"), and the
// posture-only ones.
var rules = map[string]bool{
	finding.IdentityPoolGuestAccessEnabled:     true,
	finding.IdentityPoolClassicFlowEnabled:     true,
	finding.IdentityPoolGuestRoleSet:           true,
	finding.UserPoolMFADisabled:                true,
	finding.UserPoolThreatProtectionReduced:    true,
	finding.UserPoolDeletionProtectionDisabled: true,
	finding.UserPoolSelfSignupEnabled:          true,
	finding.UserPoolWeakPasswordPolicy:         true,
	finding.AppClientInsecureFlowEnabled:       true,
	finding.AppClientRedirectsChanged:          true, // kept only when high: a plain http:// redirect
	finding.AppClientTokensWeakened:            true,
	finding.UserPoolLogDeliveryOff:             true,
}

// Rules lists the findings posture can raise, sorted.
func Rules() []string {
	var out []string
	for k := range rules {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type reader struct {
	up    UserPoolAPI
	ip    IdentityPoolAPI
	opts  Options
	last  time.Time
	every time.Duration
	rows  []Row
	// unjudged are the settings a call could not read: the rest of the
	// resource, and the other resources, are still judged.
	unjudged []error
}

// ErrUnjudged marks a Read error after which the rows are still those of
// every resource, less the settings named.
var ErrUnjudged = errors.New("posture: some settings not judged")

// Read lists the user pools, their app clients and the identity pools of
// one Region, and judges each with the finding catalog: the configuration
// is turned into the Update call that would set it (the API's describe
// shapes are its request shapes), which a new finding engine judges with
// no previous state, so that every risky value raises once, by the same
// rule as a change in the trail. Either API may be nil (not read).
func Read(ctx context.Context, up UserPoolAPI, ip IdentityPoolAPI, opts Options) ([]Row, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &reader{up: up, ip: ip, opts: opts}
	switch rps := opts.RequestsPerSecond; {
	case rps == 0:
		r.every = time.Duration(float64(time.Second) / DefaultRequestsPerSecond)
	case rps > 0:
		r.every = time.Duration(float64(time.Second) / rps)
	}
	var errs []error
	if up != nil {
		errs = append(errs, r.userPools(ctx))
	}
	if ip != nil {
		errs = append(errs, r.identityPools(ctx))
	}
	if len(r.unjudged) > 0 {
		errs = append(errs, fmt.Errorf("%w: %w", ErrUnjudged, errors.Join(r.unjudged...)))
	}
	slices.SortStableFunc(r.rows, func(a, b Row) int {
		return strings.Compare(a.Resource+"\x00"+a.Finding+"\x00"+a.Setting, b.Resource+"\x00"+b.Finding+"\x00"+b.Setting)
	})
	return r.rows, errors.Join(errs...)
}

// pace waits for the next request's turn.
func (r *reader) pace(ctx context.Context) error {
	if r.every <= 0 {
		return ctx.Err()
	}
	if wait := time.Until(r.last.Add(r.every)); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	r.last = time.Now()
	return nil
}

func (r *reader) userPools(ctx context.Context) error {
	return eachListed(ctx, r, "ListUserPools", func(token *string) ([]ciptypes.UserPoolDescriptionType, *string, error) {
		out, err := r.up.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60), NextToken: token})
		if err != nil {
			return nil, nil, err
		}
		return out.UserPools, out.NextToken, nil
	}, func(p ciptypes.UserPoolDescriptionType) error { return r.userPool(ctx, aws.ToString(p.Id)) })
}

// eachListed asks for a list page by page, paced like every call, and
// reads each item a page lists before asking for the next; call names the
// request in the error.
func eachListed[T any](ctx context.Context, r *reader, call string, list func(token *string) ([]T, *string, error), read func(T) error) error {
	var token *string
	for {
		if err := r.pace(ctx); err != nil {
			return err
		}
		items, next, err := list(token)
		if err != nil {
			return fmt.Errorf("posture: %s: %s: %w", r.opts.Region, call, err)
		}
		for _, it := range items {
			if err := read(it); err != nil {
				return err
			}
		}
		if token = next; token == nil || *token == "" {
			return nil
		}
	}
}

func (r *reader) userPool(ctx context.Context, id string) error {
	if err := r.pace(ctx); err != nil {
		return err
	}
	d, err := r.up.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("posture: %s: DescribeUserPool %s: %w", r.opts.Region, id, err)
	}
	req := map[string]any{}
	if err := remarshal(d.UserPool, &req); err != nil {
		return err
	}
	req["userPoolId"] = id
	// What the API leaves out is its default: no add-ons is threat
	// protection off, no deletion protection is INACTIVE.
	if absent(req["UserPoolAddOns"]) {
		req["UserPoolAddOns"] = map[string]any{"AdvancedSecurityMode": "OFF"}
	}
	if absent(req["DeletionProtection"]) {
		req["DeletionProtection"] = "INACTIVE"
	}
	// Triggers are configuration, not a risk: a change finding only.
	delete(req, "LambdaConfig")
	if err := r.pace(ctx); err != nil {
		return err
	}
	mfa, err := r.up.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("posture: %s: GetUserPoolMfaConfig %s: %w", r.opts.Region, id, err)
	}
	if mfa.MfaConfiguration != "" {
		req["MfaConfiguration"] = string(mfa.MfaConfiguration)
	}
	r.judge(ctx, "cognito-idp.amazonaws.com", "UpdateUserPool", req, id, "")

	if err := r.pace(ctx); err != nil {
		return err
	}
	logs, err := r.up.GetLogDeliveryConfiguration(ctx, &cip.GetLogDeliveryConfigurationInput{UserPoolId: aws.String(id)})
	switch {
	case err != nil && !notFound(err):
		r.unjudged = append(r.unjudged, fmt.Errorf("%s: log delivery of %s (GetLogDeliveryConfiguration): %w", r.opts.Region, id, err))
	case err != nil || logs.LogDeliveryConfiguration == nil || len(logs.LogDeliveryConfiguration.LogConfigurations) == 0:
		r.add(finding.Finding{Name: finding.UserPoolLogDeliveryOff, Severity: finding.Medium, UserPoolID: id,
			Settings: []finding.Setting{{Name: "logConfigurations", Value: "none"}}}, id, "")
	}

	return eachListed(ctx, r, "ListUserPoolClients "+id, func(token *string) ([]ciptypes.UserPoolClientDescription, *string, error) {
		out, err := r.up.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(id), MaxResults: aws.Int32(60), NextToken: token})
		if err != nil {
			return nil, nil, err
		}
		return out.UserPoolClients, out.NextToken, nil
	}, func(c ciptypes.UserPoolClientDescription) error { return r.client(ctx, id, aws.ToString(c.ClientId)) })
}

func (r *reader) client(ctx context.Context, pool, id string) error {
	if err := r.pace(ctx); err != nil {
		return err
	}
	d, err := r.up.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("posture: %s: DescribeUserPoolClient %s: %w", r.opts.Region, id, err)
	}
	req := map[string]any{}
	if err := remarshal(d.UserPoolClient, &req); err != nil {
		return err
	}
	// Never judged, never output: the secret is only a string to the
	// engine, but it has no business in a request it reads.
	delete(req, "ClientSecret")
	req["userPoolId"], req["clientId"] = pool, id
	// The API's defaults for a client that does not state them.
	if absent(req["PreventUserExistenceErrors"]) {
		req["PreventUserExistenceErrors"] = "LEGACY"
	}
	if absent(req["EnableTokenRevocation"]) {
		req["EnableTokenRevocation"] = true
	}
	r.judge(ctx, "cognito-idp.amazonaws.com", "UpdateUserPoolClient", req, id, pool)
	return nil
}

func (r *reader) identityPools(ctx context.Context) error {
	return eachListed(ctx, r, "ListIdentityPools", func(token *string) ([]citypes.IdentityPoolShortDescription, *string, error) {
		out, err := r.ip.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60), NextToken: token})
		if err != nil {
			return nil, nil, err
		}
		return out.IdentityPools, out.NextToken, nil
	}, func(p citypes.IdentityPoolShortDescription) error {
		return r.identityPool(ctx, aws.ToString(p.IdentityPoolId))
	})
}

func (r *reader) identityPool(ctx context.Context, id string) error {
	if err := r.pace(ctx); err != nil {
		return err
	}
	d, err := r.ip.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("posture: %s: DescribeIdentityPool %s: %w", r.opts.Region, id, err)
	}
	req := map[string]any{}
	if err := remarshal(d, &req); err != nil {
		return err
	}
	delete(req, "ResultMetadata")
	req["identityPoolId"] = id
	r.judge(ctx, "cognito-identity.amazonaws.com", "UpdateIdentityPool", req, id, "")
	if err := r.pace(ctx); err != nil {
		return err
	}
	roles, err := r.ip.GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)})
	if err != nil {
		r.unjudged = append(r.unjudged, fmt.Errorf("%s: roles of %s (GetIdentityPoolRoles): %w", r.opts.Region, id, err))
		return nil
	}
	if len(roles.Roles) > 0 {
		req := map[string]any{"identityPoolId": id, "roles": roles.Roles}
		r.judge(ctx, "cognito-identity.amazonaws.com", "SetIdentityPoolRoles", req, id, "")
	}
	return nil
}

// judge evaluates the call that would set req as a record of this account
// and Region, with no previous state; with Options.Track, also against the
// state the tracker holds.
func (r *reader) judge(ctx context.Context, source, op string, req map[string]any, resource, pool string) {
	at := r.opts.Now().UTC()
	rec, c, raw, ok := r.record(source, op, req, at, "posture")
	if !ok {
		return
	}
	eng := finding.New(&finding.Options{State: finding.NewMemoryState()})
	eng.StartFile()
	for _, f := range eng.Observe(ctx, rec, c, raw) {
		r.add(f, resource, pool)
	}
	if t := r.opts.Track; t != nil {
		if rec, c, raw, ok := r.record(source, op, req, at, t.eventID(resource)); ok {
			t.observe(ctx, rec, c, raw)
		}
	}
}

// record builds the CloudTrail record of the call that would set req, made
// at at by the service itself.
func (r *reader) record(source, op string, req map[string]any, at time.Time, eventID string) (*record.Record, *class.Class, []byte, bool) {
	raw, err := json.Marshal(map[string]any{
		"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339),
		"eventSource": source, "eventName": op, "awsRegion": r.opts.Region,
		"recipientAccountId": r.opts.Account, "eventType": "AwsApiCall", "eventID": eventID,
		"userIdentity":      map[string]any{"type": "AWSService", "accountId": r.opts.Account},
		"requestParameters": req,
	})
	if err != nil {
		return nil, nil, nil, false
	}
	var rec record.Record
	if _, err := record.NewParser().Parse(raw, &rec); err != nil {
		return nil, nil, nil, false
	}
	c := class.Classify(&rec)
	return &rec, &c, raw, true
}

// kept tells whether f is one of the posture rules' findings.
func kept(f *finding.Finding) bool {
	return rules[f.Name] && (f.Name != finding.AppClientRedirectsChanged || f.Severity == finding.High)
}

// add keeps the posture rules' findings, one row per setting.
func (r *reader) add(f finding.Finding, resource, pool string) {
	if !kept(&f) {
		return
	}
	row := Row{Finding: f.Name, Severity: f.Severity.String(), Control: Controls[f.Name], Account: r.opts.Account,
		Region: r.opts.Region, Resource: resource, ResourceType: TypeUserPool, Source: Source, Time: r.opts.Now().UTC(), Pool: pool}
	switch {
	case pool != "":
		row.ResourceType = TypeClient
	case f.IdentityPoolID != "" || strings.HasPrefix(f.Name, "identity-pool-"):
		row.ResourceType = TypeIdentityPool
	}
	if f.Severity == 0 {
		if s, ok := finding.Lookup(f.Name); ok {
			row.Severity = s.Severity.String()
		}
	}
	if len(f.Settings) == 0 {
		r.rows = append(r.rows, row)
		return
	}
	for _, s := range f.Settings {
		if !risky(f.Name, s) {
			continue
		}
		row.Setting, row.Value = s.Name, s.Value
		r.rows = append(r.rows, row)
	}
}

// risky tells, of a finding's settings, those that make it: the plain
// http:// redirects of a client (not its https ones), the guest role of an
// identity pool (not its authenticated one).
func risky(name string, s finding.Setting) bool {
	switch name {
	case finding.AppClientRedirectsChanged:
		return (s.Name == "callbackURLs" || s.Name == "logoutURLs") && finding.PlainHTTP(s.Value)
	case finding.IdentityPoolGuestRoleSet:
		return strings.EqualFold(s.Name, "roles.unauthenticated")
	}
	return true
}

// remarshal turns an SDK structure into the request map the engine reads:
// the SDK's member names are the API's, which the engine accepts in either
// case of their first letter.
func remarshal(v any, into *map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("posture: %w", err)
	}
	return json.Unmarshal(b, into)
}

// absent: what the SDK marshals for a member the answer left out.
func absent(v any) bool { return v == nil || v == "" }

func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException"
}
