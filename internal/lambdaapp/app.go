package lambdaapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/posture"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/securityhub"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/sink/cloudwatch"
	"github.com/cognitrail/cognitrail/pkg/sink/emf"
)

// newCloudWatchClient builds the CloudWatch client that speaks protocol
// (CLOUDWATCH_PROTOCOL). An answer it cannot decode says which setting to
// try: an endpoint that is not CloudWatch (moto_server, LocalStack) may not
// speak the SDK's default, CBOR, and the decoder alone only says
// "unexpected minor value 28".
func newCloudWatchClient(protocol string, awsCfg aws.Config, retryer func() aws.Retryer) *cw.Client {
	return cw.NewFromConfig(awsCfg, func(o *cw.Options) {
		o.Retryer = retryer()
		switch protocol {
		case ProtocolJSON:
			o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801)
			// moto_server (5.2.1), the reason to choose json, fails on
			// gzip-compressed awsJson bodies; requests stay well under
			// the 1 MB limit uncompressed.
			o.DisableRequestCompression = true
		case ProtocolQuery:
			o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
		}
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("CognitrailProtocolHint", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				return out, md, protocolHint(protocol, err)
			}), middleware.Before)
		})
	})
}

// protocolHint adds to an answer CloudWatch's client could not decode
// which CLOUDWATCH_PROTOCOL values to try; other errors are returned as
// they are.
func protocolHint(protocol string, err error) error {
	var de *smithy.DeserializationError
	if err == nil || !errors.As(err, &de) {
		return err
	}
	if protocol == "" {
		protocol = ProtocolCBOR
	}
	var others []string
	for _, p := range []string{ProtocolCBOR, ProtocolJSON, ProtocolQuery} {
		if p != protocol {
			others = append(others, p)
		}
	}
	return fmt.Errorf("%w (the answer is not %s: an endpoint that is not CloudWatch, such as moto_server, may need %s=%s)",
		err, protocol, EnvCloudWatchProtocol, strings.Join(others, " or "))
}

// LoadAWSConfig loads the default AWS configuration (environment, shared
// files, the Lambda role), including AWS_ENDPOINT_URL. It makes no network
// calls.
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// Option sets what no setting of the function says: the tests' retry
// tuning and finding state. The deployed function and the CLI pass none.
type Option func(*options)

type options struct {
	retryMaxAttempts int           // 0: DefaultRetryMaxAttempts
	retryMaxBackoff  time.Duration // 0: DefaultRetryMaxBackoff
	// findingState: nil means the ledger table's (ledger.Settings) when
	// idempotency is on, else the handler's in-memory state (see
	// processor.Options.FindingState).
	findingState finding.State
}

// WithRetry sets the SDK clients' attempts and longest backoff (0: the
// defaults), so that a test meets a fault's end in milliseconds.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(o *options) { o.retryMaxAttempts, o.retryMaxBackoff = maxAttempts, maxBackoff }
}

// WithFindingState keeps the settings' histories in s; nil keeps the
// function's own choice.
func WithFindingState(s finding.State) Option {
	return func(o *options) { o.findingState = s }
}

// New builds the handler: SDK clients once, here, reused by every
// invocation. stdout receives EMF lines when that sink is chosen.
func New(cfg Config, awsCfg aws.Config, stdout io.Writer, log *slog.Logger, opts ...Option) (*processor.Handler, error) {
	h, _, err := build(cfg, awsCfg, stdout, log, opts)
	return h, err
}

// NewFunction builds the deployed function's handler: New's, behind the
// dispatch of scheduled events to posture (Function).
func NewFunction(cfg Config, awsCfg aws.Config, stdout io.Writer, log *slog.Logger, opts ...Option) (*Function, error) {
	h, p, err := build(cfg, awsCfg, stdout, log, opts)
	if err != nil {
		return nil, err
	}
	return &Function{Processor: h, Posture: p, Log: log}, nil
}

// build makes the processor's handler and, with cfg.Posture, the posture
// run, sharing the finding state and the notifier.
func build(cfg Config, awsCfg aws.Config, stdout io.Writer, log *slog.Logger, opts []Option) (*processor.Handler, *posture.Scheduled, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if log != nil {
		awsCfg.Logger = sdkLogger{log: log}
	}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = o.retryMaxAttempts
			if so.MaxAttempts <= 0 {
				so.MaxAttempts = DefaultRetryMaxAttempts
			}
			so.MaxBackoff = o.retryMaxBackoff
			if so.MaxBackoff <= 0 {
				so.MaxBackoff = DefaultRetryMaxBackoff
			}
		})
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.S3UsePathStyle
		o.Retryer = retryer()
	})
	age := sink.AgeFilter{MaxAge: cfg.MaxDatumAge}
	var sk processor.Sink
	switch cfg.Sink {
	case SinkEMF:
		sk = emf.New(stdout, &emf.Options{Namespace: cfg.Namespace, Age: age})
	case SinkCloudWatch, "":
		sk = cloudwatch.New(newCloudWatchClient(cfg.CloudWatchProtocol, awsCfg, retryer), &cloudwatch.Options{Namespace: cfg.Namespace, Age: age})
	default:
		return nil, nil, fmt.Errorf("unknown metrics sink %q", cfg.Sink)
	}
	var l *ledger.Ledger
	var db *dynamodb.Client
	if cfg.IdempotencyTable != "" {
		db = dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.Retryer = retryer() })
		l = ledger.New(db, ledger.Options{Table: cfg.IdempotencyTable})
	}
	// Built once: its cache lives as long as the execution environment.
	// Without the lookup or a map it still carries pairs between files.
	copts := &clientpool.Options{Static: cfg.ClientPools}
	if db != nil {
		// Pairs the trail taught, and looked up, outlive a cold start.
		copts.Store = &clientpool.DynamoStore{API: db, Table: cfg.IdempotencyTable}
	}
	if cfg.ResolveClients {
		copts.Lookup = cip.NewFromConfig(awsCfg, func(o *cip.Options) { o.Retryer = retryer() })
		// ListUserPools answers for the function's Region: the lookup
		// resolves the calls made there only.
		copts.Region = awsCfg.Region
	}
	state := o.findingState
	switch {
	case state == nil && db != nil:
		// Idempotency on: the settings' histories live in the ledger table,
		// so a cold start does not raise a restated setting again.
		state = ledger.NewSettings(db, ledger.Options{Table: cfg.IdempotencyTable})
	case state == nil:
		// The environment's: shared by the trail files and the posture
		// runs it serves.
		state = finding.NewMemoryState()
	}
	var notifier *alert.Notifier
	if cfg.FindingsTopicARN != "" {
		nopts := alert.Options{TopicARN: cfg.FindingsTopicARN, MinSeverity: cfg.NotifySeverity}
		if db != nil {
			nopts.Dedup = ledger.NewNotices(db, ledger.Options{Table: cfg.IdempotencyTable})
		}
		notifier = alert.New(sns.NewFromConfig(awsCfg, func(o *sns.Options) { o.Retryer = retryer() }), nopts)
	}
	out := findingsOut{sns: notifier}
	if cfg.SecurityHub {
		out.hub = securityhub.New(sh.NewFromConfig(awsCfg, func(o *sh.Options) { o.Retryer = retryer() }), 0)
	}
	bud, err := seriesBudget(cfg, db)
	if err != nil {
		return nil, nil, err
	}
	var post *posture.Scheduled
	if cfg.Posture {
		// Read-only calls, granted by the template with PostureSchedule;
		// throttling is the retryer's.
		post = &posture.Scheduled{
			UserPools:     cip.NewFromConfig(awsCfg, func(o *cip.Options) { o.Retryer = retryer() }),
			IdentityPools: ci.NewFromConfig(awsCfg, func(o *ci.Options) { o.Retryer = retryer() }),
			Trails:        cloudtrail.NewFromConfig(awsCfg, func(o *cloudtrail.Options) { o.Retryer = retryer() }),
			State:         state,
			Region:        awsCfg.Region,
			Log:           log,
		}
		// Posture findings reach Security Hub as rows, with their
		// controls and resolution, not as change findings.
		if out.sns != nil {
			post.Notifier = out.sns
		}
		if out.hub != nil {
			post.Rows = hubRows{out.hub}
		}
	}
	var pn processor.Notifier
	if out.on() {
		pn = out
	}
	return processor.New(s3c, sk, l, &processor.Options{
		Level:                 cfg.Level,
		MaxPools:              cfg.MaxPools,
		MaxUncompressedBytes:  cfg.MaxUncompressedBytes,
		MaxRecordBytes:        cfg.MaxRecordBytes,
		MaxDatumAge:           cfg.MaxDatumAge,
		ExpectedBucketOwner:   cfg.ExpectedBucketOwner,
		Logger:                log,
		EventLinesFollowLevel: cfg.EventLinesFollowLevel,
		Clients:               clientpool.New(copts),
		FindingState:          state,
		SignInThreshold:       cfg.SignInThreshold,
		Windows:               cfg.Windows,
		Notifier:              pn,
		Budget:                bud,
		Buffered:              cfg.Delivery == DeliveryBuffered,
	}), post, nil
}

// seriesBudget is the series budget of every invocation the execution
// environment serves. With the ledger table (db set) it is the table's,
// shared by every environment: the bound is per table, and a file resumed
// in another environment is folded as in the first, so its remaining
// batches line up with those published. Without it, the environment's
// memory: the bound is per environment, and nothing is resumed, so the
// folding of a retried file cannot split a count (see pkg/budget).
func seriesBudget(cfg Config, db *dynamodb.Client) (budget.Budget, error) {
	max := cfg.MaxSeriesPerDimension
	switch {
	case max < 0:
		return nil, nil
	case max == 0:
		max = budget.DefaultMax
	}
	if db == nil {
		return budget.NewMemory(max), nil
	}
	b, err := budget.NewDynamo(db, cfg.IdempotencyTable, max)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvMaxSeriesPerDim, err)
	}
	return b, nil
}

// MessageKey is the JSON key of a log line's message: Lambda's JSON log
// format (lambdacontext.ReplaceAttr) renames slog's "msg". Saved queries and
// Contributor Insights rules filter on it; TestLoggerKeys holds it to what
// NewLogger writes.
const MessageKey = "message"

// NewLogger returns the JSON logger. With Lambda's JSON log format
// (AWS_LAMBDA_LOG_FORMAT=JSON) it is lambdacontext's, which adds the request
// id and follows AWS_LAMBDA_LOG_LEVEL; otherwise an equivalent JSON handler
// on w (Lambda's default text format would make the lines unqueryable).
// LOG_LEVEL, when set, overrides the level either way; the handler writes
// its cognito_event and finding lines past it (see package processor), so
// that the template's queries, rules and widgets keep their input.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var h slog.Handler
	if cfg.LambdaLogFormat == "JSON" {
		h = lambdacontext.NewLogHandler()
	} else {
		level := slog.LevelInfo
		switch cfg.LambdaLogLevel {
		case "DEBUG", "TRACE":
			level = slog.LevelDebug
		case "WARN":
			level = slog.LevelWarn
		case "ERROR", "FATAL":
			level = slog.LevelError
		}
		h = requestIDHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{
			Level:       minLevel(cfg, level),
			ReplaceAttr: lambdacontext.ReplaceAttr,
		})}
	}
	if cfg.LogLevel != nil {
		h = levelHandler{Handler: h, min: *cfg.LogLevel}
	}
	return slog.New(h)
}

func minLevel(cfg Config, l slog.Level) slog.Level {
	if cfg.LogLevel != nil {
		return min(l, *cfg.LogLevel)
	}
	return l
}

// requestIDHandler adds the invocation's request id, as lambdacontext's
// handler does.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}

func (h requestIDHandler) WithGroup(n string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(n)}
}

// levelHandler applies LOG_LEVEL on top of the handler's own level.
type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{h.Handler.WithAttrs(a), h.min}
}

func (h levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{h.Handler.WithGroup(n), h.min}
}
