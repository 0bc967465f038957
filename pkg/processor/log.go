package processor

import (
	"context"
	"log/slog"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// Message of the per-record line for notable security events. Logs Insights
// queries and Contributor Insights rules select on it: part of the contract.
const NotableMsg = "cognito_event"

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

// notable logs one notable record. Only these fields are ever logged: they
// come from record.Record, which holds no request parameters, response
// elements, tokens or user names, and hidden values are dropped again here.
func (h *Handler) notable(ctx context.Context, ev *scan.Event) {
	reason := notableReason(ev.Class)
	if reason == "" || !h.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	r, c := ev.Record, ev.Class
	attrs := make([]slog.Attr, 0, 12)
	add := func(k, v string) {
		if v != "" && !record.IsHidden(v) {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("reason", reason)
	add("eventTime", r.EventTime.UTC().Format("2006-01-02T15:04:05Z"))
	add("eventSource", r.EventSource)
	add("eventName", r.EventName)
	add("category", c.Category.String())
	add("errorCode", c.ErrorCode)
	add("sourceIPAddress", r.SourceIPAddress)
	add("userPoolId", c.UserPoolID)
	add("identityPoolId", c.IdentityPoolID)
	add("sub", r.Sub)
	add("awsRegion", r.AWSRegion)
	add("account", c.Account)
	h.log.LogAttrs(ctx, slog.LevelInfo, NotableMsg, attrs...)
}

// logObject writes the one line per object.
func (h *Handler) logObject(ctx context.Context, ol *objectLog, outcome string, err error) {
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
