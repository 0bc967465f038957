package posture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/finding"
)

// Notifier sends findings (a *alert.Notifier).
type Notifier interface {
	Notify(ctx context.Context, fs []finding.Finding, until time.Time) (alert.Stats, error)
}

// RowSink takes each run's rows as they are (Security Hub: imported with
// the control each fails, and, when the run judged every setting
// (complete), the findings of earlier runs no longer found archived as
// resolved).
type RowSink interface {
	PostureRows(ctx context.Context, account, region string, rows []Row, complete bool, at time.Time) error
}

// Log messages of the scheduled run: part of the contract, as the
// processor's finding lines.
const (
	// RowMsg: one line per risky setting as it is now (a Row's fields).
	RowMsg = "posture"
	// RunMsg: one line per run, with its counts.
	RunMsg = "posture_run"
	// NewMsg: one line per risky setting new to the state (notified).
	NewMsg = "posture_new"
	// CoverageMsg: the trails that log what cognitrail reads (Coverage).
	CoverageMsg = "posture_coverage"
)

// Scheduled is the function's posture run, invoked by the template's
// PostureSchedule: it reads the function's Region (Read, and ReadCoverage
// when Trails is set), writes every value read into State (Tracker), and
// notifies the risky settings new to it. Without a Notifier the new
// settings are logged only.
type Scheduled struct {
	UserPools     UserPoolAPI
	IdentityPools IdentityPoolAPI
	// Trails: nil means coverage is not read.
	Trails TrailAPI
	// State is the finding state the change findings use; nil means one in
	// memory (per execution environment).
	State    finding.State
	Notifier Notifier
	// Rows, when set, takes every run's rows (nil: none).
	Rows   RowSink
	Region string
	// RequestsPerSecond: see Options.
	RequestsPerSecond float64
	Log               *slog.Logger
	// Now: nil means time.Now.
	Now func() time.Time
}

// RunSummary is a run's outcome (the invocation's response).
type RunSummary struct {
	Region string `json:"region"`
	// Rows counts the risky settings as they are now, coverage included.
	Rows int `json:"rows"`
	// New counts those new to the state; Notified those sent now.
	New      int `json:"new"`
	Notified int `json:"notified"`
	// Unjudged: some settings could not be read (the others were).
	Unjudged bool `json:"unjudged,omitempty"`
}

func (s *Scheduled) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Scheduled) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Run reads the Region as account's, known by runID (the scheduled event's
// id: a retry of the same event raises the same notices). What was read is
// kept and notified even when a call failed; the error then says what to
// retry. The state is written only after the new settings are notified, so
// a failed notification raises them again on the retry.
func (s *Scheduled) Run(ctx context.Context, account, runID string) (RunSummary, error) {
	sum := RunSummary{Region: s.Region}
	t := NewTracker(s.State, runID)
	opts := Options{Account: account, Region: s.Region, RequestsPerSecond: s.RequestsPerSecond, Now: s.Now, Track: t}
	rows, err := Read(ctx, s.UserPools, s.IdentityPools, opts)
	sum.Unjudged = err != nil
	errs := []error{err}
	if s.Trails != nil {
		_, cov, cerr := ReadCoverage(ctx, s.Trails, opts)
		rows = append(rows, cov...)
		if cerr != nil {
			sum.Unjudged = true
			errs = append(errs, cerr)
		}
	}
	sum.Rows = len(rows)
	for _, r := range rows {
		s.logRow(ctx, slog.LevelInfo, r)
	}
	if s.Rows != nil {
		// The rows as they are, every run: a setting made safe is resolved
		// there, a risky one kept active, whatever the state knew.
		if rerr := s.Rows.PostureRows(ctx, account, s.Region, rows, !sum.Unjudged, s.now()); rerr != nil {
			errs = append(errs, fmt.Errorf("posture: rows: %w", rerr))
		}
	}
	if err := t.Err(); err != nil {
		errs = append(errs, err)
	}
	fs := t.Findings()
	sum.New = len(fs)
	for i := range fs {
		f := &fs[i]
		s.log().InfoContext(ctx, NewMsg, "finding", f.Name, "severity", f.Severity.String(), "account", f.Account,
			"region", f.Region, "resource", resourceOf(f), "settings", finding.FormatSettings(f.Settings), "eventID", f.EventID)
	}
	notified := true
	if s.Notifier != nil && len(fs) > 0 {
		st, nerr := s.Notifier.Notify(ctx, fs, s.lease(ctx))
		sum.Notified = st.Sent
		if nerr != nil {
			notified = false
			errs = append(errs, nerr)
		}
	}
	if notified {
		if cerr := t.Commit(ctx); cerr != nil {
			errs = append(errs, cerr)
		}
	}
	err = errors.Join(errs...)
	level := slog.LevelInfo
	attrs := []any{"region", sum.Region, "rows", sum.Rows, "new", sum.New, "notified", sum.Notified, "committed", notified}
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, "error", err.Error())
	}
	s.log().Log(ctx, level, RunMsg, attrs...)
	return sum, err
}

// lease is how long a notice is held while it is sent: the invocation's
// deadline, else a few minutes.
func (s *Scheduled) lease(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(time.Minute)
	}
	return s.now().Add(15 * time.Minute)
}

// ReportCoverage reads which trails of the Region log what cognitrail
// reads and logs it, with a warning per blind spot (the function does it
// once per cold start). An error is logged, not returned: coverage is a
// report, not the function's work.
func (s *Scheduled) ReportCoverage(ctx context.Context, account string) {
	if s.Trails == nil {
		return
	}
	cov, rows, err := ReadCoverage(ctx, s.Trails, Options{Account: account, Region: s.Region, Now: s.Now})
	if err != nil {
		s.log().WarnContext(ctx, CoverageMsg, "region", s.Region, "error", err.Error())
		return
	}
	s.log().InfoContext(ctx, CoverageMsg, "region", cov.Region,
		"managementEvents", strings.Join(cov.Management, " "), "identityPoolDataEvents", strings.Join(cov.IdentityPoolData, " "))
	for _, r := range rows {
		s.logRow(ctx, slog.LevelWarn, r)
	}
}

// logRow writes r's fields, as `cognitrail posture --format jsonl` does.
func (s *Scheduled) logRow(ctx context.Context, level slog.Level, r Row) {
	attrs := []slog.Attr{slog.String("finding", r.Finding), slog.String("severity", r.Severity)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("control", r.Control)
	add("account", r.Account)
	add("region", r.Region)
	add("resource", r.Resource)
	add("resourceType", r.ResourceType)
	add("setting", r.Setting)
	add("value", r.Value)
	add("userPoolId", r.Pool)
	add("source", r.Source)
	s.log().LogAttrs(ctx, level, RowMsg, attrs...)
}

func resourceOf(f *finding.Finding) string {
	switch {
	case f.ClientID != "":
		return f.ClientID
	case f.UserPoolID != "":
		return f.UserPoolID
	}
	return f.IdentityPoolID
}
