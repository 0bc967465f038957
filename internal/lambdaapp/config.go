package lambdaapp

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cognitrail/cognitrail/internal/bytesize"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// Environment variables read by ConfigFromEnv. README documents each.
const (
	EnvNamespace            = "NAMESPACE"
	EnvMetricsSink          = "METRICS_SINK"
	EnvDetailLevel          = "DETAIL_LEVEL"
	EnvIdempotencyTable     = "IDEMPOTENCY_TABLE"
	EnvMaxUncompressedBytes = "MAX_UNCOMPRESSED_BYTES"
	EnvMaxRecordBytes       = "MAX_RECORD_BYTES"
	EnvMaxPools             = "MAX_POOLS"
	EnvMaxSeriesPerDim      = "MAX_SERIES_PER_DIMENSION"
	EnvExpectedBucketOwner  = "EXPECTED_BUCKET_OWNER"
	EnvLogLevel             = "LOG_LEVEL"
	// Set by Lambda from the function's LoggingConfig, never by the
	// template's Environment.
	EnvLambdaLogFormat    = "AWS_LAMBDA_LOG_FORMAT"
	EnvLambdaLogLevel     = "AWS_LAMBDA_LOG_LEVEL"
	EnvCloudWatchProtocol = "CLOUDWATCH_PROTOCOL"
	EnvMaxDatumAge        = "MAX_DATUM_AGE"
	EnvS3UsePathStyle     = "S3_USE_PATH_STYLE"
	EnvResolveClients     = "RESOLVE_CLIENTS"
	EnvClientPools        = "CLIENT_POOLS"
	EnvSignInIPThreshold  = "SIGNIN_IP_THRESHOLD"
	EnvAttackWindows      = "ATTACK_WINDOWS"
	EnvFindingsTopicARN   = "FINDINGS_TOPIC_ARN"
	EnvNotifySeverity     = "NOTIFY_SEVERITY"
	EnvDelivery           = "DELIVERY"
	EnvPosture            = "POSTURE"
	EnvSecurityHub        = "SECURITY_HUB"
)

// Deliveries: how trail files reach the function.
const (
	// DeliveryDirect: one object at a time, as each notification arrives
	// (S3, SNS, EventBridge, or SQS batches processed object by object).
	DeliveryDirect = "direct"
	// DeliveryBuffered: through SQS, each batch of messages aggregated and
	// published once (processor.Options.Buffered).
	DeliveryBuffered = "buffered"
)

// Sinks.
const (
	SinkCloudWatch = "cloudwatch"
	SinkEMF        = "emf"
)

// CloudWatch wire protocols.
const (
	ProtocolCBOR  = "cbor"  // the SDK's default, Smithy RPC v2 CBOR
	ProtocolJSON  = "json"  // awsJson1.0
	ProtocolQuery = "query" // awsQuery
)

// Config is the function's configuration.
type Config struct {
	Namespace            string
	Sink                 string
	Level                metric.Level
	IdempotencyTable     string // empty: idempotency off
	MaxUncompressedBytes int64  // 0: the engine's default
	MaxRecordBytes       int    // 0: the engine's default
	MaxPools             int    // 0: the engine's default
	// MaxSeriesPerDimension bounds the values of each budgeted dimension
	// with their own series per month (pkg/budget: in the ledger table
	// when IdempotencyTable is set, else in memory); 0 means
	// budget.DefaultMax, negative no bound.
	MaxSeriesPerDimension int
	ExpectedBucketOwner   string
	LogLevel              *slog.Level // nil: Lambda's own setting, else INFO
	// LambdaLogFormat and LambdaLogLevel are Lambda's own logging
	// settings (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL): see
	// NewLogger.
	LambdaLogFormat, LambdaLogLevel string
	CloudWatchProtocol              string
	// MaxDatumAge: 0 means CloudWatch's two weeks, negative no check.
	MaxDatumAge    time.Duration
	S3UsePathStyle bool
	// ResolveClients enables the cognito-idp lookup of app clients;
	// ClientPools is the static clientId -> poolId map, each pair under
	// its pool's Region.
	ResolveClients bool
	ClientPools    map[clientpool.Key]string
	// SignInThreshold is the failed sign-ins from one IP in one file that
	// raise sign-in-failures-from-one-ip; 0: finding.DefaultSignInThreshold.
	SignInThreshold int
	// Windows are the windows and thresholds of the attacks judged
	// across files (finding.ParseWindows of ATTACK_WINDOWS).
	Windows finding.Windows
	// FindingsTopicARN: empty means no notifications. NotifySeverity is the
	// lowest severity sent (finding.High unless NOTIFY_SEVERITY says).
	FindingsTopicARN string
	NotifySeverity   finding.Severity
	// Delivery is DeliveryDirect or DeliveryBuffered.
	Delivery string
	// Posture: the template's PostureSchedule is set, with its read-only
	// grants: a scheduled event runs posture (pkg/posture.Scheduled), and
	// each cold start reports the trails' coverage.
	Posture bool
	// SecurityHub: every finding (change, attack, posture) is also imported
	// into Security Hub (the template's SecurityHub, with its grant).
	SecurityHub bool

	// EventLinesFollowLevel: see processor.Options (the CLI's backfill,
	// whose stderr feeds no query).
	EventLinesFollowLevel bool
}

// MaxRecordBytesLimit caps MAX_RECORD_BYTES: the reader may buffer that
// much for one record, and a Lambda function has at most 10 GiB of memory.
const MaxRecordBytesLimit = 1 << 30

// Retry defaults for the CloudWatch, S3 and DynamoDB clients.
const (
	// DefaultRetryMaxAttempts: one more than the SDK's 3 before an error
	// costs a whole Lambda retry.
	DefaultRetryMaxAttempts = 5
	// DefaultRetryMaxBackoff keeps retries well inside a publish margin.
	DefaultRetryMaxBackoff = 5 * time.Second
)

// ConfigFromEnv reads the configuration through getenv (os.Getenv in main).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Namespace:           getenv(EnvNamespace),
		Sink:                strings.ToLower(getenv(EnvMetricsSink)),
		IdempotencyTable:    getenv(EnvIdempotencyTable),
		ExpectedBucketOwner: getenv(EnvExpectedBucketOwner),
		CloudWatchProtocol:  strings.ToLower(getenv(EnvCloudWatchProtocol)),
		Delivery:            strings.ToLower(getenv(EnvDelivery)),
	}
	if c.Namespace == "" {
		c.Namespace = metric.DefaultNamespace
	}
	if err := metric.CheckNamespace(c.Namespace); err != nil {
		return c, fmt.Errorf("%s: %w", EnvNamespace, err)
	}
	if err := oneOf(EnvMetricsSink, &c.Sink, SinkCloudWatch, SinkEMF); err != nil {
		return c, err
	}
	if err := oneOf(EnvDelivery, &c.Delivery, DeliveryDirect, DeliveryBuffered); err != nil {
		return c, err
	}
	if err := oneOf(EnvCloudWatchProtocol, &c.CloudWatchProtocol, ProtocolCBOR, ProtocolJSON, ProtocolQuery); err != nil {
		return c, err
	}
	var err error
	if c.Level, err = metric.ParseLevel(getenv(EnvDetailLevel)); err != nil {
		return c, fmt.Errorf("%s: %w", EnvDetailLevel, err)
	}
	if v := getenv(EnvMaxUncompressedBytes); v != "" {
		if c.MaxUncompressedBytes, err = parseBytes(v); err != nil || c.MaxUncompressedBytes <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive byte count such as 2147483648 or 2GiB", EnvMaxUncompressedBytes, v)
		}
	}
	if v := getenv(EnvMaxRecordBytes); v != "" {
		n, err := parseBytes(v)
		if err != nil || n <= 0 || n > MaxRecordBytesLimit {
			return c, fmt.Errorf("%s=%q: want a positive byte count up to 1GiB such as 16777216 or 16MiB", EnvMaxRecordBytes, v)
		}
		c.MaxRecordBytes = int(n)
	}
	if v := getenv(EnvMaxPools); v != "" {
		if c.MaxPools, err = strconv.Atoi(v); err != nil || c.MaxPools <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive integer", EnvMaxPools, v)
		}
	}
	switch v := strings.ToLower(getenv(EnvMaxSeriesPerDim)); v {
	case "":
	case "off":
		c.MaxSeriesPerDimension = -1
	default:
		if c.MaxSeriesPerDimension, err = strconv.Atoi(v); err != nil || c.MaxSeriesPerDimension <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive integer, or off", EnvMaxSeriesPerDim, v)
		}
		if c.IdempotencyTable != "" && c.MaxSeriesPerDimension > budget.MaxDynamoLimit {
			// The month's values live in one ledger item (400 KB at most).
			return c, fmt.Errorf("%s=%q: at most %d with %s", EnvMaxSeriesPerDim, v, budget.MaxDynamoLimit, EnvIdempotencyTable)
		}
	}
	c.LambdaLogFormat, c.LambdaLogLevel = getenv(EnvLambdaLogFormat), getenv(EnvLambdaLogLevel)
	if v := getenv(EnvLogLevel); v != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
			return c, fmt.Errorf("%s=%q: want DEBUG, INFO, WARN or ERROR", EnvLogLevel, v)
		}
		c.LogLevel = &l
	}
	switch v := strings.ToLower(getenv(EnvMaxDatumAge)); v {
	case "":
	case "off", "none":
		c.MaxDatumAge = -1
	default:
		// Past CloudWatch's two weeks, an old datum would make CloudWatch
		// refuse its whole batch, fresh datums included, and a refused batch
		// is not retried.
		if c.MaxDatumAge, err = time.ParseDuration(v); err != nil || c.MaxDatumAge <= 0 || c.MaxDatumAge > sink.DefaultMaxAge {
			return c, fmt.Errorf("%s=%q: want a duration up to 336h (CloudWatch's two weeks) such as 168h, or off", EnvMaxDatumAge, v)
		}
	}
	// Unset, it follows the endpoint: local ones (moto_server, MinIO) serve
	// buckets by path, not by host name.
	c.S3UsePathStyle = getenv("AWS_ENDPOINT_URL") != "" || getenv("AWS_ENDPOINT_URL_S3") != ""
	if err := setBool(EnvS3UsePathStyle, strings.ToLower(getenv(EnvS3UsePathStyle)), &c.S3UsePathStyle); err != nil {
		return c, err
	}
	for _, s := range []struct {
		env string
		dst *bool
	}{{EnvResolveClients, &c.ResolveClients}, {EnvPosture, &c.Posture}, {EnvSecurityHub, &c.SecurityHub}} {
		if err := setBool(s.env, getenv(s.env), s.dst); err != nil {
			return c, err
		}
	}
	if v := getenv(EnvSignInIPThreshold); v != "" {
		if c.SignInThreshold, err = strconv.Atoi(v); err != nil || c.SignInThreshold <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive integer", EnvSignInIPThreshold, v)
		}
	}
	if v := getenv(EnvAttackWindows); v != "" {
		if c.Windows, err = finding.ParseWindows(v); err != nil {
			return c, fmt.Errorf("%s: %w", EnvAttackWindows, err)
		}
	}
	if v := getenv(EnvFindingsTopicARN); v != "" {
		if !topicARN().MatchString(v) {
			return c, fmt.Errorf("%s=%q: want a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME, not FIFO)", EnvFindingsTopicARN, v)
		}
		c.FindingsTopicARN = v
	}
	c.NotifySeverity = finding.High
	if v := getenv(EnvNotifySeverity); v != "" {
		var ok bool
		if c.NotifySeverity, ok = finding.ParseSeverity(strings.ToLower(v)); !ok {
			return c, fmt.Errorf("%s=%q: want high or medium", EnvNotifySeverity, v)
		}
	}
	if c.ClientPools, err = clientpool.ParseMap(getenv(EnvClientPools)); err != nil {
		return c, fmt.Errorf("%s: %w", EnvClientPools, err)
	}
	return c, nil
}

// FindingsTopicARNPattern is what FINDINGS_TOPIC_ARN must match: a
// standard topic (a FIFO topic refuses a publish without a message group,
// so every notification would fail, and only be logged). The template's
// FindingsTopicArn AllowedPattern is this or empty (package templatecheck
// keeps them equal), so a deployment fails where the function would.
const FindingsTopicARNPattern = `^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`

// topicARN is compiled on first use, not at start-up: the {1,256} makes a
// program of 256 copies, 4 ms and 3,400 allocations that every run of the
// CLI, which links this package, would pay before reading a file.
var topicARN = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(FindingsTopicARNPattern) })

// oneOf checks the setting env named against its choices, the first being
// what an unset one means, and names them all when it is none of them.
func oneOf(env string, v *string, choices ...string) error {
	if *v == "" {
		*v = choices[0]
		return nil
	}
	if slices.Contains(choices, *v) {
		return nil
	}
	last := len(choices) - 1
	return fmt.Errorf("%s=%q: want %s or %s", env, *v, strings.Join(choices[:last], ", "), choices[last])
}

// setBool reads a true/false setting into dst; unset (v empty) leaves dst
// at its default.
func setBool(env, v string, dst *bool) error {
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s=%q: want true or false", env, v)
	}
	*dst = b
	return nil
}

// parseBytes is the command line's byte-count syntax (bytesize.Parse), so
// MAX_UNCOMPRESSED_BYTES and --max-uncompressed-bytes accept the same values.
func parseBytes(s string) (int64, error) { return bytesize.Parse(s) }
