package metric

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultNamespace is the CloudWatch namespace unless configured otherwise.
const DefaultNamespace = "CognitoTrail"

// ReservedNamespacePrefix starts the namespaces of AWS services; CloudWatch
// refuses custom metrics in them.
const ReservedNamespacePrefix = "AWS/"

// CheckNamespace returns an error for a namespace CloudWatch would refuse
// every datum of: empty, longer than 255 characters, or reserved for AWS.
// Caught at start-up, it is a configuration error, not a file failing
// again and again into the dead-letter queue.
func CheckNamespace(ns string) error {
	switch {
	case ns == "" || len(ns) > 255:
		return fmt.Errorf("metric: namespace %q: want 1 to 255 characters", ns)
	case strings.HasPrefix(ns, ReservedNamespacePrefix):
		return fmt.Errorf("metric: namespace %q: namespaces beginning with %s are reserved for AWS services", ns, ReservedNamespacePrefix)
	}
	return nil
}

// Metric names.
const (
	Events                    = "Events"
	Errors                    = "Errors"
	SignInFailures            = "SignInFailures"
	ForgotPasswordRequests    = "ForgotPasswordRequests"
	SignUps                   = "SignUps"
	SignUpConfirmations       = "SignUpConfirmations"
	CodeDeliveryRequests      = "CodeDeliveryRequests"
	UserPoolConfigChanges     = "UserPoolConfigChanges"
	IdentityPoolConfigChanges = "IdentityPoolConfigChanges"
	ConfigChangesDenied       = "ConfigChangesDenied"
	IdentityPoolRoleCalls     = "IdentityPoolRoleCalls"
	UnlistedOperations        = "UnlistedOperations"
	FilesProcessed            = "FilesProcessed"
	FilesSkipped              = "FilesSkipped"
	FilesFailed               = "FilesFailed"
	RecordsRead               = "RecordsRead"
	RecordsInvalid            = "RecordsInvalid"
	DeliveryLagSeconds        = "DeliveryLagSeconds"
	Findings                  = "Findings"
	DistinctFailingSources    = "DistinctFailingSources"
)

// Dimension names.
const (
	DimCategory       = "Category"
	DimOperation      = "Operation"
	DimErrorCode      = "ErrorCode"
	DimUserPoolID     = "UserPoolId"
	DimIdentityPoolID = "IdentityPoolId"
	DimAuthType       = "AuthType"
	// DimClientID is the app client of end-user calls whose user pool could
	// not be resolved.
	DimClientID = "ClientId"
	DimSeverity = "Severity"
	DimFinding  = "Finding"
)

// Unit is a CloudWatch unit.
type Unit string

// Units used.
const (
	Count   Unit = "Count"
	Seconds Unit = "Seconds"
)

// Level is how much detail is published. Each level includes the ones
// below it.
type Level int

// Levels.
const (
	// Basic: totals and per-category counts, no per-operation or per-pool
	// breakdown. The cheapest; enough for every alarm in the template.
	Basic Level = iota + 1
	// Standard (the default) adds per-operation and per-error-code series and
	// per-pool series on the key metrics, capped per file.
	Standard
	// Full adds per-pool event counts by category.
	Full
)

// DefaultLevel is the level when none is configured: the Lambda's
// DETAIL_LEVEL, the template's DetailLevel and the CLI's --level.
const DefaultLevel = Standard

// ParseLevel parses "basic", "standard" or "full"; "" is DefaultLevel.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "":
		return DefaultLevel, nil
	case "basic":
		return Basic, nil
	case "standard":
		return Standard, nil
	case "full":
		return Full, nil
	}
	return 0, fmt.Errorf("metric: unknown detail level %q (want basic, standard or full)", s)
}

func (l Level) String() string {
	switch l {
	case Basic:
		return "basic"
	case Standard:
		return "standard"
	case Full:
		return "full"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// DimensionSet is one combination of dimensions a metric is published with.
type DimensionSet struct {
	Names []string // sorted
	Level Level
}

// Statistics the catalog names.
const (
	// StatSum reads a count: each datum is Values [1] Counts [n].
	StatSum = "Sum"
	// StatMaximum reads a peak: each datum is one file's view of a
	// window (Values [v]), and a later file's view of the same window,
	// knowing more, is larger. A datum sent twice changes nothing.
	StatMaximum = "Maximum"
)

// Spec describes one metric.
type Spec struct {
	Name string
	Unit Unit
	// Stat is the statistic that reads the metric (alarms, dashboards):
	// StatSum, StatMaximum, or "" for a distribution (any statistic).
	Stat        string
	Sets        []DimensionSet
	Description string
}

func dims(l Level, names ...string) DimensionSet { return DimensionSet{Names: names, Level: l} }

// perPool is the dimension sets of a metric kept per user pool: an app
// client's datum counts under its pool once the client resolves to one,
// else under its ClientId.
func perPool() []DimensionSet {
	return []DimensionSet{dims(Basic), dims(Standard, DimUserPoolID), dims(Standard, DimClientID)}
}

// Catalog lists every metric, in the order the README documents them.
var Catalog = []Spec{
	{Events, Count, StatSum, []DimensionSet{
		dims(Basic, DimCategory),
		dims(Standard, DimCategory, DimOperation),
		dims(Full, DimCategory, DimUserPoolID),
		dims(Full, DimCategory, DimIdentityPoolID),
	}, "Records per category; per operation for the Cognito categories."},
	{Errors, Count, StatSum, []DimensionSet{
		dims(Basic, DimCategory),
		dims(Standard, DimCategory, DimErrorCode),
	}, "Records with an errorCode (or an endpoint HTTP status >= 400), Cognito categories only."},
	{SignInFailures, Count, StatSum, perPool(), "Failed sign-in attempts: API auth calls and hosted UI / managed login credential submissions; by pool, app client ids resolved to their pool, else by ClientId."},
	{ForgotPasswordRequests, Count, StatSum, perPool(), "ForgotPassword, AdminResetUserPassword and hosted UI ForgotPassword_POST requests; by pool, app client ids resolved to their pool, else by ClientId."},
	{SignUps, Count, StatSum, perPool(), "Self-service sign-ups that succeeded (SignUp, hosted UI Signup_POST, managed login signup_POST); by pool, app client ids resolved to their pool, else by ClientId."},
	{SignUpConfirmations, Count, StatSum, perPool(), "Sign-ups confirmed (ConfirmSignUp, AdminConfirmSignUp, the confirmation endpoints), succeeded; with SignUps, the confirmation ratio that falls under SMS pumping."},
	{CodeDeliveryRequests, Count, StatSum, perPool(), "Calls that succeeded and made Cognito send a code by SMS or email (SignUp, ResendConfirmationCode, ForgotPassword, GetUserAttributeVerificationCode, AdminResetUserPassword, their endpoints): the messages an SMS pumping attack makes the account pay for."},
	{UserPoolConfigChanges, Count, StatSum, []DimensionSet{
		dims(Basic),
		dims(Standard, DimOperation),
		dims(Standard, DimUserPoolID),
	}, "User pool configuration created, updated or deleted (pools, clients, domains, IdPs, ...); a call that failed is counted in ConfigChangesDenied instead."},
	{IdentityPoolConfigChanges, Count, StatSum, []DimensionSet{
		dims(Basic),
		dims(Standard, DimOperation),
		dims(Standard, DimIdentityPoolID),
	}, "Identity pool configuration created, updated or deleted (pools, roles, tag maps, tags, Cognito Sync settings)."},
	{ConfigChangesDenied, Count, StatSum, []DimensionSet{
		dims(Basic),
		dims(Standard, DimOperation),
	}, "Configuration calls of either pool kind that failed (denied, or refused): nothing changed, so they are not configuration changes; repeated, they are a principal probing what it may change."},
	{IdentityPoolRoleCalls, Count, StatSum, []DimensionSet{
		dims(Basic, DimAuthType),
		dims(Standard, DimAuthType, DimIdentityPoolID),
	}, "Calls to any AWS service made with credentials an identity pool vended, by role."},
	{UnlistedOperations, Count, StatSum, []DimensionSet{
		dims(Basic),
		dims(Standard, DimOperation),
	}, "Operations no pkg/class table lists (endpoint operations in neither documented table, mutating cognito-idp / cognito-identity API operations): a new AWS operation, classified by its naming, to add to pkg/class."},
	{Findings, Count, StatSum, []DimensionSet{
		dims(Basic, DimSeverity),
		dims(Standard, DimFinding),
	}, "Security findings (pkg/finding catalog): by severity, and by finding name."},
	{FilesProcessed, Count, StatSum, []DimensionSet{dims(Basic)}, "Trail files read to the end."},
	{FilesSkipped, Count, StatSum, []DimensionSet{dims(Basic)}, "Objects skipped: digest and Insights files, folders, empty objects, test events, duplicates."},
	{FilesFailed, Count, StatSum, []DimensionSet{dims(Basic)}, "Trail files that could not be read (corrupt, truncated, too large, not CloudTrail)."},
	{RecordsRead, Count, StatSum, []DimensionSet{dims(Basic)}, "CloudTrail records read, Cognito or not."},
	{RecordsInvalid, Count, StatSum, []DimensionSet{dims(Basic)}, "Records that were valid JSON but unusable (not an object, no eventTime)."},
	{DeliveryLagSeconds, Seconds, "", []DimensionSet{dims(Basic)}, "Delay from a record's eventTime to the delivery of its file."},
	{DistinctFailingSources, Count, StatMaximum, perPool(), "Distinct addresses failing sign-in against one user pool (or unresolved app client) in the credential-stuffing window ending at the minute, from the same state as the findings; basic: the largest of the pools."},
}

// StatOf returns the statistic the catalog reads the metric named name by:
// StatSum, StatMaximum, or "" for a distribution or a name it lacks.
func StatOf(name string) string {
	s, _ := Lookup(name)
	return s.Stat
}

// Lookup returns the spec of the metric named name.
func Lookup(name string) (Spec, bool) {
	for _, s := range Catalog {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Dimension is one name/value pair of a datum.
type Dimension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Datum is one metric's values for one minute and dimension combination:
// Values[i] was observed Counts[i] times. For a count metric that is
// Values [1] and Counts [n], so the Sum statistic is the number of events.
type Datum struct {
	Name       string      `json:"name"`
	Dimensions []Dimension `json:"dimensions,omitempty"` // sorted by Name
	Timestamp  time.Time   `json:"timestamp"`
	Unit       Unit        `json:"unit"`
	Values     []float64   `json:"values"`
	Counts     []float64   `json:"counts"`
}

// Sum returns the sum of the datum's observations.
func (d Datum) Sum() float64 {
	var s float64
	for i, v := range d.Values {
		s += v * d.Counts[i]
	}
	return s
}

// SampleCount returns the number of observations.
func (d Datum) SampleCount() float64 {
	var n float64
	for _, c := range d.Counts {
		n += c
	}
	return n
}

// DimensionNames returns the sorted names of the datum's dimensions.
func (d Datum) DimensionNames() []string {
	names := make([]string, len(d.Dimensions))
	for i, dim := range d.Dimensions {
		names[i] = dim.Name
	}
	return names
}

// MaxValuesPerDatum is PutMetricData's limit on Values (and Counts) per datum.
const MaxValuesPerDatum = 150

// CloudWatch's constraints on a dimension value (PutMetricData, Dimension):
// 1 to 1024 characters, ASCII only, no ASCII control characters, at least
// one character that is not white space. A request with one value outside
// them is refused whole (InvalidParameterValue).
const (
	MaxDimensionValueLen = 1024
	// EmptyDimensionValue stands for a value with nothing publishable in it
	// (empty, or only spaces).
	EmptyDimensionValue = "(empty)"
	// dimensionReplacement stands for each character CloudWatch refuses.
	dimensionReplacement = '_'
)

// SanitizeDimensionValue returns v as CloudWatch accepts it, by this rule:
//
//  1. every character that is not printable ASCII (U+0020 to U+007E),
//     and every byte that is not valid UTF-8, becomes one '_';
//  2. the result is cut to its first MaxDimensionValueLen (1024) bytes;
//  3. a result that is empty or only spaces becomes EmptyDimensionValue.
//
// A value CloudWatch accepts is returned unchanged, so every AWS-defined
// value (operation names, error codes, pool and client ids) passes as is;
// the rule only touches what a malformed or hostile record put there. It is
// idempotent. Distinct raw values may map to one series (their counts then
// add up): what was unpublishable cannot be told apart anyway.
func SanitizeDimensionValue(v string) string {
	if validDimensionValue(v) {
		return v
	}
	b := make([]byte, 0, min(len(v), MaxDimensionValueLen))
	for _, r := range v { // an invalid byte is one utf8.RuneError
		if len(b) == MaxDimensionValueLen {
			break
		}
		if r < 0x20 || r > 0x7e {
			r = dimensionReplacement
		}
		b = append(b, byte(r))
	}
	if strings.Trim(string(b), " ") == "" {
		return EmptyDimensionValue
	}
	return string(b)
}

func validDimensionValue(v string) bool {
	if len(v) == 0 || len(v) > MaxDimensionValueLen {
		return false
	}
	blank := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		blank = blank && c == ' '
	}
	return !blank
}

// Key is a datum's place in the one order every aggregation emits its
// datums in (package aggregate): by name, then dimensions (sorted by name,
// compared name then value, a prefix first), then time, then first value.
// A resumed publish passes over every datum whose key is at most the key of
// the last one published: unlike a count of batches, that point does not
// move when something before it changes between attempts.
type Key struct {
	Name       string      `json:"n"`
	Dimensions []Dimension `json:"d,omitempty"`
	// Time is the datum's timestamp, Unix seconds (a minute, for the
	// aggregator's datums).
	Time int64 `json:"t"`
	// Low is the datum's first value: it tells apart the datums a
	// distribution is split into within one minute (MaxValuesPerDatum),
	// whose values ascend. Every count datum has Values [1].
	Low float64 `json:"v,omitempty"`
}

// KeyOf returns d's key.
func KeyOf(d *Datum) Key {
	k := Key{Name: d.Name, Dimensions: d.Dimensions, Time: d.Timestamp.Unix()}
	if !slices.IsSortedFunc(k.Dimensions, compareDimensionNames) {
		k.Dimensions = slices.SortedFunc(slices.Values(k.Dimensions), compareDimensionNames)
	}
	if len(d.Values) > 0 {
		k.Low = d.Values[0]
	}
	return k
}

func compareDimensionNames(a, b Dimension) int { return cmp.Compare(a.Name, b.Name) }

// CompareDimensions orders two sorted dimension lists: name, then value,
// dimension by dimension; a list before the longer lists it begins.
func CompareDimensions(x, y []Dimension) int {
	return slices.CompareFunc(x, y, func(a, b Dimension) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
}

// Compare orders keys: negative when k comes before o, zero when equal.
func (k Key) Compare(o Key) int {
	if c := cmp.Compare(k.Name, o.Name); c != 0 {
		return c
	}
	if c := CompareDimensions(k.Dimensions, o.Dimensions); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Time, o.Time); c != 0 {
		return c
	}
	return cmp.Compare(k.Low, o.Low)
}
