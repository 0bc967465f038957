package processor

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// Message of the per-record line for notable security events. Logs Insights
// queries and Contributor Insights rules select on it: part of the contract.
const NotableMsg = "cognito_event"

// Message of the line written for each security finding (pkg/finding), with
// the fields of `cognitrail findings`: part of the contract, as NotableMsg.
const FindingMsg = "finding"

// Reasons a record is notable (the "reason" attribute).
const (
	ReasonSignInFailure           = "sign-in-failure"
	ReasonForgotPassword          = "forgot-password"
	ReasonConfigChange            = "config-change"
	ReasonUnauthenticatedRoleCall = "unauthenticated-role-call"
)

// notableReason says why a record deserves its own log line, or "".
func notableReason(c *class.Class) string {
	switch {
	case c.SignIn && c.Failed:
		return ReasonSignInFailure
	case c.ForgotPassword:
		return ReasonForgotPassword
	case c.ConfigChange:
		return ReasonConfigChange
	case c.AuthType == class.Unauthenticated:
		return ReasonUnauthenticatedRoleCall
	}
	return ""
}

// DefaultMaxEventLines bounds the event lines (cognito_event and finding)
// one object keeps until it is done. A kept cognito_event line takes 176
// bytes (TestEventLineSize) plus the strings it does not share with other
// records (most are interned by the record parser), so the default holds
// about 18 MB, well inside the smallest memory the template allows. The
// lines past it are counted in the object line (eventLinesDropped), which
// is then a warning; the metrics still count every record.
const DefaultMaxEventLines = 100_000

// notableLine is a cognito_event line kept until its object is done: only
// the fields the line logs, so that a file of many notable records stays
// small. The strings come from record.Record, which owns them.
type notableLine struct {
	eventTime      int64 // Unix seconds: CloudTrail's precision
	reason         string
	category       class.Category
	eventSource    string
	eventName      string
	errorCode      string
	sourceIP       string
	userPoolID     string
	identityPoolID string
	sub            string
	awsRegion      string
	account        string
}

// eventLines collects one object's event lines while it is read. They are
// written only once the object is done (see Handler.publish), under the
// same exactly-once rule as its metrics: a read that fails transiently
// writes none, its retry writes them once, a duplicate none.
type eventLines struct {
	max      int
	notable  []notableLine
	findings []finding.Finding
	dropped  int
}

func (l *eventLines) n() int { return len(l.notable) + len(l.findings) }

// addFinding keeps a finding's line.
func (l *eventLines) addFinding(f finding.Finding) {
	if l.n() >= l.max {
		l.dropped++
		return
	}
	// The engine reuses its slice of findings from record to record:
	// keep copies, settings included (findings are rare).
	f.Settings = slices.Clone(f.Settings)
	l.findings = append(l.findings, f)
}

// add keeps the lines of one classified record.
func (l *eventLines) add(ev *scan.Event) {
	for _, f := range ev.Findings {
		l.addFinding(f)
	}
	reason := notableReason(ev.Class)
	if reason == "" {
		return
	}
	if l.n() >= l.max {
		l.dropped++
		return
	}
	r, c := ev.Record, ev.Class
	l.notable = append(l.notable, notableLine{
		eventTime: r.EventTime.Unix(), reason: reason, category: c.Category,
		eventSource: r.EventSource, eventName: r.EventName, errorCode: c.ErrorCode,
		sourceIP: r.SourceIPAddress, userPoolID: c.UserPoolID, identityPoolID: c.IdentityPoolID,
		sub: r.Sub, awsRegion: r.AWSRegion, account: c.Account,
	})
}

// unfiltered hands every record to the handler whatever its level. The
// event lines go through it: LOG_LEVEL=warn or error must not remove the
// lines that saved queries, Contributor Insights rules and dashboard
// widgets count, and it keeps them at level INFO, where they belong, in the
// same handler as every other line (same writer, format, request id), rather
// than in a second handler that would have to be kept identical. It relies on
// slog's contract that Enabled is the level gate and Handle writes what it
// is given, which slog's JSON handler and lambdacontext's both follow.
type unfiltered struct{ slog.Handler }

func (unfiltered) Enabled(context.Context, slog.Level) bool { return true }

func (u unfiltered) WithAttrs(a []slog.Attr) slog.Handler { return unfiltered{u.Handler.WithAttrs(a)} }

func (u unfiltered) WithGroup(n string) slog.Handler { return unfiltered{u.Handler.WithGroup(n)} }

// writeEvents writes an object's event lines, once it is done.
func (h *Handler) writeEvents(ctx context.Context, l *eventLines) {
	for i := range l.notable {
		h.notable(ctx, &l.notable[i])
	}
	for i := range l.findings {
		h.finding(ctx, &l.findings[i])
	}
}

// visibleAttrs are the attributes of an event line, which leaves out empty
// values and those Cognito hides.
type visibleAttrs []slog.Attr

func (a *visibleAttrs) add(k, v string) {
	if v != "" && !record.IsHidden(v) {
		*a = append(*a, slog.String(k, v))
	}
}

// finding logs one finding with the fields of a `cognitrail findings` row.
// The engine outputs no value Cognito hides, no token and no user name;
// hidden values are dropped again here.
func (h *Handler) finding(ctx context.Context, f *finding.Finding) {
	attrs := make(visibleAttrs, 0, 16)
	attrs.add("eventTime", f.Time.UTC().Format("2006-01-02T15:04:05Z"))
	attrs.add("severity", f.Severity.String())
	attrs.add("finding", f.Name)
	attrs.add("account", f.Account)
	attrs.add("region", f.Region)
	attrs.add("userPoolId", f.UserPoolID)
	attrs.add("identityPoolId", f.IdentityPoolID)
	attrs.add("clientId", f.ClientID)
	attrs.add("operation", f.Operation)
	attrs.add("actor", f.Actor)
	attrs.add("sourceIPAddress", f.SourceIP)
	attrs.add("userAgent", f.UserAgent)
	attrs.add("eventID", f.EventID)
	settings := f.Settings
	if slices.ContainsFunc(settings, func(s finding.Setting) bool { return record.IsHidden(s.Value) }) {
		settings = slices.DeleteFunc(slices.Clone(settings), func(s finding.Setting) bool { return record.IsHidden(s.Value) })
	}
	attrs.add("settings", finding.FormatSettings(settings))
	if f.Count > 0 {
		attrs = append(attrs, slog.Int("count", f.Count))
	}
	h.events.LogAttrs(ctx, slog.LevelInfo, FindingMsg, attrs...)
}

// notableFields are the attributes of a cognito_event line, in the order
// written: the one list of them. Saved queries, Contributor Insights rules
// and dashboard widgets read them by these names (NotableFields gives them
// to the template check). Only these are ever logged: they come from
// record.Record and class.Class, which hold no request parameters, response
// elements, tokens or user names.
var notableFields = [...]struct {
	key   string
	value func(*notableLine) string
}{
	{"reason", func(n *notableLine) string { return n.reason }},
	{"eventTime", func(n *notableLine) string { return time.Unix(n.eventTime, 0).UTC().Format("2006-01-02T15:04:05Z") }},
	{"eventSource", func(n *notableLine) string { return n.eventSource }},
	{"eventName", func(n *notableLine) string { return n.eventName }},
	{"category", func(n *notableLine) string { return n.category.String() }},
	{"errorCode", func(n *notableLine) string { return n.errorCode }},
	{"sourceIPAddress", func(n *notableLine) string { return n.sourceIP }},
	{"userPoolId", func(n *notableLine) string { return n.userPoolID }},
	{"identityPoolId", func(n *notableLine) string { return n.identityPoolID }},
	{"sub", func(n *notableLine) string { return n.sub }},
	{"awsRegion", func(n *notableLine) string { return n.awsRegion }},
	{"account", func(n *notableLine) string { return n.account }},
}

// NotableFields returns the attribute names of a cognito_event line, in
// the order written (an empty or hidden value is left out of a line).
func NotableFields() []string {
	keys := make([]string, len(notableFields))
	for i, f := range notableFields {
		keys[i] = f.key
	}
	return keys
}

// notable logs one notable record; hidden values are dropped again here.
func (h *Handler) notable(ctx context.Context, n *notableLine) {
	attrs := make(visibleAttrs, 0, len(notableFields))
	for _, f := range notableFields {
		attrs.add(f.key, f.value(n))
	}
	h.events.LogAttrs(ctx, slog.LevelInfo, NotableMsg, attrs...)
}

// logObject writes the one line per object.
func (h *Handler) logObject(ctx context.Context, ol *objectRun, outcome string, err error) {
	level := slog.LevelInfo
	switch outcome {
	case "failed":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("outcome", outcome),
		slog.String("bucket", ol.o.Bucket),
		slog.String("key", ol.o.Key),
	}
	if ol.versionID != "" {
		attrs = append(attrs, slog.String("versionId", ol.versionID))
	}
	if ol.msgID != "" {
		attrs = append(attrs, slog.String("messageId", ol.msgID))
	}
	if ol.batch != "" {
		// Its datums, batches and requests are on the batch's line.
		attrs = append(attrs, slog.String("batch", ol.batch))
	}
	attrs = append(attrs,
		slog.Int("records", ol.res.Records),
		slog.Int("invalidRecords", ol.res.Invalid),
	)
	var cats []slog.Attr
	for i, n := range ol.res.ByCategory {
		if n > 0 {
			cats = append(cats, slog.Int(class.Category(i).String(), n))
		}
	}
	if len(cats) > 0 {
		attrs = append(attrs, slog.Attr{Key: "categories", Value: slog.GroupValue(cats...)})
	}
	attrs = append(attrs,
		slog.Int64("compressedBytes", ol.res.Compressed),
		slog.Int64("uncompressedBytes", ol.res.Uncompressed),
		slog.Int("datums", ol.datums),
		slog.Int("batches", ol.batches),
		slog.Int("requests", ol.stats.Requests),
	)
	if ol.resumed > 0 {
		attrs = append(attrs, slog.Int("resumedAtBatch", ol.resumed))
	}
	if n := ol.events.n(); n > 0 && outcome != "error" {
		attrs = append(attrs, slog.Int("eventLines", n))
	}
	if ol.events.dropped > 0 && outcome != "error" {
		// The object's lines past the bound: counted here, once.
		attrs = append(attrs, slog.Int("eventLinesDropped", ol.events.dropped))
		if level < slog.LevelWarn {
			level = slog.LevelWarn
		}
	}
	if ol.attempt > 1 {
		attrs = append(attrs, slog.Int("attempt", ol.attempt))
	}
	if ol.tooOld > 0 {
		// Logged once per object: records (with their findings and outcome
		// counts) older than CloudWatch accepts, never aggregated.
		attrs = append(attrs, slog.Int("recordsTooOld", ol.tooOld))
		if level < slog.LevelWarn {
			level = slog.LevelWarn
		}
	}
	if ol.stats.Dropped > 0 {
		// Logged once per object, not per datum.
		attrs = append(attrs, slog.Int("datumsDroppedTooOld", ol.stats.Dropped))
		if level < slog.LevelWarn {
			level = slog.LevelWarn
		}
	}
	if ol.stats.Rejected > 0 {
		// Logged once per object: the count, and the first refusal's
		// error (later ones are as many more datums, not more news).
		attrs = append(attrs, slog.Int("datumsRejected", ol.stats.Rejected))
		if ol.rejected != nil {
			attrs = append(attrs, slog.String("rejectedError", ol.rejected.Error()))
		}
		if level < slog.LevelWarn {
			level = slog.LevelWarn
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	attrs = append(attrs, slog.Int64("durationMs", h.opts.Now().Sub(ol.start).Milliseconds()))
	h.log.LogAttrs(ctx, level, "object", attrs...)
}

// logSkip writes the line of an object not read.
func (h *Handler) logSkip(ctx context.Context, msgID string, o notification.Object, reason string, extra ...slog.Attr) {
	attrs := []slog.Attr{slog.String("outcome", "skipped"), slog.String("reason", reason)}
	if o.Bucket != "" {
		attrs = append(attrs, slog.String("bucket", o.Bucket))
	}
	if o.Key != "" {
		attrs = append(attrs, slog.String("key", o.Key))
	}
	if msgID != "" {
		attrs = append(attrs, slog.String("messageId", msgID))
	}
	attrs = append(attrs, extra...)
	h.log.LogAttrs(ctx, slog.LevelInfo, "object", attrs...)
}
