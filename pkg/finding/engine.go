package finding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// Defaults for Options.
const (
	DefaultSignInThreshold      = 15
	DefaultEnumerationThreshold = 10
	// DefaultMaxIPs bounds the source IPs tracked per file.
	DefaultMaxIPs = 1024
)

// Previous values a transition reports besides a real one.
const (
	// PreviousUnknown: no earlier value was seen for this pool or client.
	PreviousUnknown = "unknown"
	// PreviousNone: the setting was seen unset (a trigger that was absent).
	PreviousNone = "none"
)

// ErrState wraps a State failure.
var ErrState = errors.New("finding: state")

// ErrRequest wraps why a candidate record's request or response could not
// be read: a setting of the wrong type (a numeric mfaConfiguration), or
// malformed JSON. Such a record is not judged (see Engine.Rejected).
var ErrRequest = errors.New("finding: request or response unusable")

// Options configure an Engine. The zero value uses the defaults and a
// MemoryState.
type Options struct {
	State                State
	SignInThreshold      int
	EnumerationThreshold int
	MaxIPs               int
	// Windows are the windows and thresholds of the attacks judged
	// across files (window.go); a zero field means its default.
	Windows
}

// Setting is one value that triggered a finding.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Previous is set on a transition of a restated setting: the last value
	// seen, PreviousUnknown or PreviousNone.
	Previous string `json:"previous,omitempty"`
}

// FormatSettings renders settings as one line, "name=value (previous p)"
// joined by "; ": the CLI's table column and the finding log line's
// settings field.
func FormatSettings(settings []Setting) string {
	var b strings.Builder
	for i, s := range settings {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.Name + "=" + s.Value)
		if s.Previous != "" {
			b.WriteString(" (previous " + s.Previous + ")")
		}
	}
	return b.String()
}

// Finding is one finding about one record (or, for the sign-in findings, the
// record that crossed the threshold).
type Finding struct {
	Time           time.Time `json:"time"`
	Severity       Severity  `json:"severity"`
	Name           string    `json:"finding"`
	Account        string    `json:"account,omitempty"`
	Region         string    `json:"region,omitempty"`
	UserPoolID     string    `json:"userPoolId,omitempty"`
	IdentityPoolID string    `json:"identityPoolId,omitempty"`
	ClientID       string    `json:"clientId,omitempty"`
	Operation      string    `json:"operation"`
	Actor          string    `json:"actor,omitempty"`
	SourceIP       string    `json:"sourceIPAddress,omitempty"`
	UserAgent      string    `json:"userAgent,omitempty"`
	EventID        string    `json:"eventID,omitempty"`
	Settings       []Setting `json:"settings,omitempty"`
	// Count is the number of failures (or UserNotFoundException errors) the
	// IP had in the file: when the finding was raised (the threshold, or
	// for a success after failures the failures before it), and after
	// Engine.Recount the total the file gave.
	Count int `json:"count,omitempty"`
}

// Engine evaluates records. It is not safe for concurrent use.
type Engine struct {
	opts     Options
	ips      ipTable
	out      []Finding
	err      error
	rejected error
	// seen is this file's view of each setting it touched: the State's
	// history with this file's entries merged in (not cut: a file may
	// restate a setting many times).
	seen map[string][]Entry
	// pending holds this file's entries until Commit.
	pending map[string][]Entry
	// this file's window tallies (window.go), how many subjects of each
	// kind they hold, and the index of the record observed next
	tallies map[tallyKey]*tally
	kinds   map[string]int
	index   int
	// this file's guest calls per identity pool (guest.go)
	guests map[[2]string]*guestSeen
	// this file's sign-ins that issued tokens, per address and bucket
	succ map[ipBucket]*succSeen
	// dec is the configuration call under judgment, decoded: reused.
	dec *decoded
}

// New returns an Engine.
func New(opts *Options) *Engine {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.State == nil {
		o.State = NewMemoryState()
	}
	if o.SignInThreshold <= 0 {
		o.SignInThreshold = DefaultSignInThreshold
	}
	if o.EnumerationThreshold <= 0 {
		o.EnumerationThreshold = DefaultEnumerationThreshold
	}
	if o.MaxIPs <= 0 {
		o.MaxIPs = DefaultMaxIPs
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.Window, DefaultWindow}, {&o.SprayWindow, DefaultSprayWindow}, {&o.SMSWindow, DefaultSMSWindow}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	for _, d := range []struct {
		v   *int
		def int
	}{{&o.StuffingFailures, DefaultStuffingFailures}, {&o.StuffingSources, DefaultStuffingSources},
		{&o.SprayUsers, DefaultSprayUsers}, {&o.BruteForceSources, DefaultBruteForceSources},
		{&o.CodeFailures, DefaultCodeFailures}, {&o.SMSSends, DefaultSMSSends},
		{&o.SMSSourceSends, DefaultSMSSourceSends}, {&o.DeniedCalls, DefaultDeniedCalls},
		{&o.RefreshSources, DefaultRefreshSources}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	return &Engine{opts: o, ips: ipTable{max: o.MaxIPs, m: make(map[string]*ipStat)},
		seen: make(map[string][]Entry), pending: make(map[string][]Entry),
		tallies: make(map[tallyKey]*tally), kinds: make(map[string]int), guests: make(map[[2]string]*guestSeen),
		succ: make(map[ipBucket]*succSeen)}
}

// StartFile forgets the per-file sign-in counts, the last error and the
// state writes not committed: the sign-in findings are computed per trail
// file, and a file evaluated again (a retry) is judged as the first time.
// The settings' histories are read again, as other files moved them on.
func (e *Engine) StartFile() {
	e.ips.reset()
	clear(e.tallies)
	clear(e.kinds)
	clear(e.guests)
	clear(e.succ)
	e.index = 0
	clear(e.seen)
	clear(e.pending)
	e.err = nil
}

// Commit merges the settings seen in the current file into the State's
// histories. Call it once the file's results are kept (published, printed);
// a file that is retried instead must not be committed (if it is, its
// records are still judged as the first time, against the entries before
// them).
func (e *Engine) Commit(ctx context.Context) error {
	if len(e.pending) == 0 {
		return nil
	}
	if err := e.opts.State.Put(ctx, e.pending); err != nil {
		return fmt.Errorf("%w: %w", ErrState, err)
	}
	clear(e.pending)
	return nil
}

// judge records the current record's value of a resource's setting and
// returns the setting's value as of the record's event time: the newest entry before
// it in the State's history or this file (values are kept clipped: compare
// it with clip(value)). The record's own entry (a file evaluated again) is
// never its previous value, and a record older than the newest entry
// leaves the newest value as it is.
//
// ok false: the State failed, which Err reports (the first failure since
// StartFile); nothing may be raised on the setting.
func (c *call) judge(resource, setting, value string) (prev string, known, ok bool) {
	key := c.key(resource, setting)
	h, seen := c.seen[key]
	if !seen {
		var err error
		if h, err = c.opts.State.Get(c.ctx, key); err != nil {
			if c.err == nil {
				c.err = fmt.Errorf("%w: %s %s: %w", ErrState, resource, setting, err)
			}
			return "", false, false
		}
		h = slices.Clone(h)
	}
	me := Entry{Time: c.r.EventTime, EventID: c.r.EventID, Value: clip(value)}
	prev, known = asOf(h, me)
	c.seen[key], _ = insert(h, me)
	c.pending[key] = append(c.pending[key], me)
	return prev, known, true
}

// Err returns the first State error since StartFile, wrapped in ErrState.
// Findings that depend on it were not raised, so the caller must retry the
// file.
func (e *Engine) Err() error { return e.err }

// Rejected returns why the record last observed could not be judged (its
// request or response unusable, wrapping ErrRequest), or nil. Such a
// record yields no configuration finding and moves no setting on: the
// caller counts it as an unusable record, as the reader's bad records are.
func (e *Engine) Rejected() error { return e.rejected }

// Observe evaluates one classified record; raw is its JSON. The findings are
// valid until the next call. They are ObserveFile's, then ObserveState's.
func (e *Engine) Observe(ctx context.Context, r *record.Record, c *class.Class, raw []byte) []Finding {
	e.out = e.out[:0]
	e.rejected = nil
	e.observeFile(r, c, raw)
	if h := stateHandler(r, c); h != nil {
		e.config(ctx, h, r, raw)
	}
	return e.out
}

// ObserveFile evaluates only what depends on the record's file alone: the
// per-IP sign-in findings. With ObserveState on the same records, it
// raises what Observe raises, so that the files of a run can be read in
// parallel, each with an Engine of its own for ObserveFile, while one
// Engine judges the few records Stateful selects against the State, file
// after file in order. The findings are valid until the next call.
func (e *Engine) ObserveFile(r *record.Record, c *class.Class, raw []byte) []Finding {
	e.out = e.out[:0]
	e.observeFile(r, c, raw)
	return e.out
}

// ObserveState evaluates only the configuration handlers, whose verdicts
// read and write the State (and which Stateful selects): Observe's other
// half. The findings are valid until the next call.
func (e *Engine) ObserveState(ctx context.Context, r *record.Record, c *class.Class, raw []byte) []Finding {
	e.out = e.out[:0]
	e.rejected = nil
	if h := stateHandler(r, c); h != nil {
		e.config(ctx, h, r, raw)
	}
	return e.out
}

// Stateful reports whether ObserveState may raise a finding on the record
// or touch the State: a configuration call that succeeded. Few records are.
func Stateful(r *record.Record, c *class.Class) bool { return stateHandler(r, c) != nil }

func (e *Engine) observeFile(r *record.Record, c *class.Class, raw []byte) {
	switch c.Category {
	case class.UserPoolAPI, class.HostedUI, class.ManagedLogin:
		if c.SignIn || enumerates(r) {
			e.signIn(r, c, raw)
		}
		e.count(r, c)
	case class.IdentityPoolData:
		if guestCall(r, c) {
			e.countGuest(r, raw)
		}
	}
	if c.ConfigChange && c.Failed {
		e.countDenied(r, raw)
	}
}

// stateHandler is the configuration handler of a record, nil for most.
func stateHandler(r *record.Record, c *class.Class) handler {
	if c.Failed {
		return nil
	}
	switch c.Category {
	case class.IdentityPoolManagement:
		return identityPoolOps[r.EventName]
	case class.UserPoolAPI:
		return userPoolOps[r.EventName]
	case class.Other:
		if r.EventSource == sourceWAF && r.EventName == "DisassociateWebACL" {
			return wafRemoved
		}
	}
	return nil
}

// sourceWAF is AWS WAF's (v2) CloudTrail eventSource: a user pool's web ACL
// is associated and removed there, not in Cognito.
const sourceWAF = "wafv2.amazonaws.com"

// wafRemoved raises a user pool's web ACL removed; other resources' (load
// balancers, APIs) are no concern of this engine.
func wafRemoved(c *call, req, _ *params) {
	arn := req.ResourceARN.get()
	if !arn.ok {
		return
	}
	parts := strings.SplitN(arn.s, ":", 6)
	if len(parts) != 6 || parts[2] != "cognito-idp" {
		return
	}
	pool, ok := strings.CutPrefix(parts[5], "userpool/")
	if !ok {
		return
	}
	f := c.raise(UserPoolWAFRemoved, 0, Setting{Name: "resourceArn", Value: arn.s})
	if f.UserPoolID == "" {
		f.UserPoolID = pool
	}
}

type handler func(c *call, req, resp *params)

// Reject returns, for a record Stateful selects, what Rejected would
// return once ObserveState judged it, without the State: a deferred read
// (files read in parallel) counts the record unusable at once, as a
// sequential read does.
func Reject(r *record.Record, raw []byte) error {
	var d decoded
	if err := d.decode(raw); err != nil {
		return rejection(r, err)
	}
	return nil
}

func rejection(r *record.Record, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrRequest, r.EventName, err)
}

// call is one configuration record under judgment: the record, its
// envelope and whether it creates its resource, handed to its handler and
// everything the handler calls, not kept in the Engine between records.
type call struct {
	*Engine
	// ctx is the caller's, for the State's reads.
	ctx context.Context
	r   *record.Record
	env envelope
	// create: the call makes a new resource (CreateUserPool, ...), so every
	// setting it states is new: raised when risky, whatever a history of
	// the same id holds.
	create bool
}

func (e *Engine) config(ctx context.Context, h handler, r *record.Record, raw []byte) {
	if e.dec == nil {
		e.dec = new(decoded)
	}
	d := e.dec
	if err := d.decode(raw); err != nil {
		e.rejected = rejection(r, err)
		return
	}
	h(&call{Engine: e, ctx: ctx, r: r, env: d.env, create: strings.HasPrefix(r.EventName, "Create")}, &d.req, &d.resp)
}

// raise appends a finding about the current record.
func (c *call) raise(name string, sev Severity, settings ...Setting) *Finding {
	if sev == 0 {
		sev = bySpec[name].Severity
	}
	r := c.r
	account := r.RecipientAccountID
	if account == "" {
		account = r.UserIdentity.AccountID
	}
	c.out = append(c.out, Finding{
		Time: r.EventTime, Severity: sev, Name: name, Account: account, Region: r.AWSRegion,
		UserPoolID: r.UserPoolID, IdentityPoolID: r.IdentityPoolID, Operation: r.EventName,
		Actor: c.env.actor(), SourceIP: r.SourceIPAddress, UserAgent: c.env.UserAgent,
		EventID: r.EventID, Settings: settings,
	})
	return &c.out[len(c.out)-1]
}

// risk says when a setting's new value is raised.
type risk uint8

const (
	// quiet: the value is safe; it is only recorded.
	quiet risk = iota
	// whenNew: raised on a create, and on an update whose value differs
	// from the value as of the record's time (unknown counts as different).
	whenNew
	// whenCleared: an empty value, raised only when it clears a known one
	// (a trigger removed): on a create, or with nothing known, there is
	// nothing to clear.
	whenCleared
)

// riskyIf is whenNew for a risky value, else quiet.
func riskyIf(risky bool) risk {
	if risky {
		return whenNew
	}
	return quiet
}

// transition records value as the setting's value at the record's event
// time and says, by r, whether it must be raised, with the value it
// replaced as Setting.Previous names it. It is the one rule every watched
// setting is judged by.
func (c *call) transition(resource, setting, value string, r risk) (bool, string) {
	if resource == "" {
		// No id to remember it by (hidden): judge the record alone.
		switch {
		case r != whenNew:
			return false, ""
		case c.create:
			return true, ""
		}
		return true, PreviousUnknown
	}
	prev, known, ok := c.judge(resource, setting, value)
	if !ok {
		return false, ""
	}
	switch {
	case r == quiet:
		return false, ""
	case r == whenCleared && (c.create || !known):
		// Nothing to clear (a known empty value is the same value below).
		return false, ""
	case c.create:
		return true, ""
	case !known:
		return true, PreviousUnknown
	case prev == clip(value):
		return false, ""
	case prev == "":
		return true, PreviousNone
	}
	return true, prev
}

// lengthened records d as a validity's value at the record's event time
// and says whether it lengthens it: longer than the value as of the
// record's time, or than def (Cognito's default) on a create or when no
// earlier value is known.
func (c *call) lengthened(resource, setting string, d, def time.Duration) (bool, string) {
	baseline, prev := def, ""
	if !c.create {
		prev = PreviousUnknown
	}
	if resource == "" {
		// No id to remember it by (hidden): judge the record alone.
		return d > def, prev
	}
	p, known, ok := c.judge(resource, setting, formatValidity(d))
	if !ok {
		return false, ""
	}
	if !c.create && known {
		prev = p
		if pd, ok := parseFormatted(p); ok {
			baseline = pd
		}
	}
	return d > baseline, prev
}

func (c *call) key(resource, setting string) string {
	account := c.r.RecipientAccountID
	if account == "" {
		account = c.r.UserIdentity.AccountID
	}
	return account + "/" + resource + "/" + setting
}

// watch raises name when the setting's value is risky and new.
func (c *call) watch(name, resource, setting string, sv scalar, risky func(string) bool) {
	v := sv.get()
	if !v.ok {
		return // not stated, or hidden
	}
	if raise, prev := c.transition(resource, setting, v.s, riskyIf(risky(v.s))); raise {
		c.raise(name, 0, Setting{Name: setting, Value: v.s, Previous: prev})
	}
}

// digest names a value without showing it: the first 8 hex digits of its
// SHA-256, enough to tell two values of one setting apart.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func isTrue(s string) bool  { return strings.EqualFold(s, "true") }
func isFalse(s string) bool { return strings.EqualFold(s, "false") }

func identityResource(r *record.Record) string {
	if r.IdentityPoolID == "" {
		return ""
	}
	return "identitypool/" + r.IdentityPoolID
}

func userPoolResource(r *record.Record) string {
	if r.UserPoolID == "" {
		return ""
	}
	return "userpool/" + r.UserPoolID
}

var identityPoolOps = map[string]handler{
	"CreateIdentityPool": func(c *call, req, _ *params) { c.identityPool(req) },
	"UpdateIdentityPool": func(c *call, req, _ *params) { c.identityPool(req) },
	"DeleteIdentityPool": func(c *call, _, _ *params) { c.raise(IdentityPoolDeleted, 0) },
	"SetIdentityPoolRoles": func(c *call, req, _ *params) {
		var roles []Setting
		guest := false
		if req.Roles.ok {
			for _, k := range sortedKeys(req.Roles.v) {
				if v := req.Roles.v[k]; v.ok {
					roles = append(roles, Setting{Name: "roles." + k, Value: v.s})
					guest = guest || strings.EqualFold(k, "unauthenticated")
				}
			}
		}
		if req.RoleMappings.ok {
			providers := sortedKeys(req.RoleMappings.v)
			providers = slices.DeleteFunc(providers, record.IsHidden)
			if len(providers) > 0 {
				roles = append(roles, Setting{Name: "roleMappings", Value: strings.Join(providers, " ")})
			}
		}
		// Restating the same roles changes nothing: raised only when they
		// differ from the pool's roles as of the record's time.
		var v []string
		for _, r := range roles {
			v = append(v, r.Name+"="+r.Value)
		}
		if raise, _ := c.transition(identityResource(c.r), "roles", strings.Join(v, " "), whenNew); !raise {
			return
		}
		if guest {
			c.raise(IdentityPoolGuestRoleSet, 0, roles...)
		} else {
			c.raise(IdentityPoolRolesChanged, 0, roles...)
		}
	},
}

func (c *call) identityPool(req *params) {
	res := identityResource(c.r)
	c.watch(IdentityPoolGuestAccessEnabled, res, "allowUnauthenticatedIdentities", req.AllowUnauthenticatedIdentities, isTrue)
	c.watch(IdentityPoolClassicFlowEnabled, res, "allowClassicFlow", req.AllowClassicFlow, isTrue)
	var providers []string
	stated := false
	if req.SupportedLoginProviders.ok {
		stated = true
		// The provider and a digest of its app id, never the id: an app id
		// swapped under the same provider (logins now accepted from
		// another app) is a change, and shows as one.
		for _, k := range sortedKeys(req.SupportedLoginProviders.v) {
			if v := req.SupportedLoginProviders.v[k]; v.ok && !record.IsHidden(v.s) {
				k += "#" + digest(v.s)
			}
			providers = append(providers, k)
		}
	}
	if req.CognitoIdentityProviders != nil {
		stated = true
		for _, p := range req.CognitoIdentityProviders {
			if p.ProviderName.ok {
				s := p.ProviderName.s
				if p.ClientID.ok {
					s += "/" + p.ClientID.s
				}
				providers = append(providers, s)
			}
		}
	}
	for _, l := range []list{req.OpenIDConnectProviderARNs, req.SAMLProviderARNs} {
		stated = stated || l.ok
		providers = append(providers, l.items...)
	}
	if req.DeveloperProviderName.ok {
		stated = true
		providers = append(providers, "developer:"+req.DeveloperProviderName.s)
	}
	if !stated {
		return
	}
	slices.Sort(providers)
	v := strings.Join(providers, " ")
	if raise, prev := c.transition(res, "loginProviders", v, riskyIf(v != "")); raise {
		c.raise(IdentityPoolLoginProvidersChanged, 0, Setting{Name: "loginProviders", Value: v, Previous: prev})
	}
}

var userPoolOps = map[string]handler{
	"CreateUserPool": func(c *call, req, _ *params) { c.userPool(req) },
	"UpdateUserPool": func(c *call, req, _ *params) { c.userPool(req) },
	"SetUserPoolMfaConfig": func(c *call, req, _ *params) {
		c.watch(UserPoolMFADisabled, userPoolResource(c.r), "mfaConfiguration", req.MFAConfiguration, isOff)
	},
	"DeleteUserPool":       func(c *call, _, _ *params) { c.raise(UserPoolDeleted, 0) },
	"CreateUserPoolClient": func(c *call, req, resp *params) { c.client(req, resp) },
	"UpdateUserPoolClient": func(c *call, req, resp *params) { c.client(req, resp) },
	"AddUserPoolClientSecret": func(c *call, req, _ *params) {
		f := c.raise(AppClientSecretAdded, 0)
		f.ClientID = req.ClientID.s
	},
	"CreateIdentityProvider": identityProvider,
	"UpdateIdentityProvider": identityProvider,
	"DeleteIdentityProvider": identityProvider,
	"CreateUserPoolDomain":   domain,
	"UpdateUserPoolDomain":   domain,
	"DeleteUserPoolDomain":   domain,
	"SetLogDeliveryConfiguration": func(c *call, req, _ *params) {
		var s []Setting
		for _, lc := range req.LogConfigurations {
			for _, kv := range [][2]any{
				{"eventSource", lc.EventSource}, {"logLevel", lc.LogLevel},
				{"cloudWatchLogsConfiguration.logGroupArn", lc.CloudWatch.v.LogGroupARN},
				{"s3Configuration.bucketArn", lc.S3.v.BucketARN},
				{"firehoseConfiguration.streamArn", lc.Firehose.v.StreamARN},
			} {
				if v := kv[1].(scalar).get(); v.ok {
					s = append(s, Setting{Name: "logConfigurations." + kv[0].(string), Value: v.s})
				}
			}
		}
		c.raise(UserPoolLoggingChanged, 0, s...)
	},
	"AdminSetUserPassword": func(c *call, req, _ *params) {
		// Never the user name or the password: only whether it is permanent.
		c.raise(AdminPasswordSet, 0, stated("permanent", req.Permanent)...)
	},
	"AdminAddUserToGroup": func(c *call, req, _ *params) {
		c.raise(AdminUserAddedToGroup, 0, stated("groupName", req.GroupName)...)
	},
	"CreateUserImportJob": func(c *call, req, _ *params) {
		c.raise(UserImportJobCreated, 0, stated("cloudWatchLogsRoleArn", req.CloudWatchLogsRoleARN)...)
	},
	"StartUserImportJob":   func(c *call, _, _ *params) { c.raise(UserImportJobCreated, 0) },
	"SetRiskConfiguration": riskConfiguration,
	"CreateGroup":          groupRole,
	"UpdateGroup":          groupRole,
	"AdminLinkProviderForUser": func(c *call, req, _ *params) {
		c.raise(UserIdentityChangedByAdmin, 0, stated("sourceUser.providerName", req.SourceUser.v.ProviderName)...)
	},
	"AdminDisableProviderForUser": func(c *call, req, _ *params) {
		c.raise(UserIdentityChangedByAdmin, 0, stated("user.providerName", req.User.v.ProviderName)...)
	},
	"AdminUpdateUserAttributes": func(c *call, req, _ *params) {
		// Only what the record shows: CloudTrail may hide the list whole.
		var names []string
		for _, a := range req.UserAttributes {
			if n := a.Name.get(); n.ok && signInAttribute(n.s) && !slices.Contains(names, n.s) {
				names = append(names, n.s)
			}
		}
		if len(names) > 0 {
			slices.Sort(names)
			c.raise(UserIdentityChangedByAdmin, 0, Setting{Name: "userAttributes", Value: strings.Join(names, " ")})
		}
	},
	"AdminSetUserMFAPreference": func(c *call, req, _ *params) {
		var s []Setting
		for _, m := range []struct {
			name string
			o    obj[mfaSettings]
		}{{"smsMfaSettings", req.SMSMfa}, {"softwareTokenMfaSettings", req.TOTPMfa}, {"emailMfaSettings", req.EmailMfa}} {
			if m.o.ok {
				s = append(s, stated(m.name+".enabled", m.o.v.Enabled)...)
				s = append(s, stated(m.name+".preferredMfa", m.o.v.PreferredMfa)...)
			}
		}
		c.raise(AdminMFAPreferenceChanged, 0, s...)
	},
}

// riskConfiguration raises threat protection told to let risks pass:
// compromised credentials or a high or medium account-takeover risk set to
// NO_ACTION, a high or medium risk's notification turned off, or IP ranges
// added to those it skips. Each is judged against the pool's (or the app
// client's) value as of the record's time, so restating it is quiet. A
// request with only the pool (a reset to the defaults) raises nothing.
func riskConfiguration(c *call, req, _ *params) {
	res := ""
	if pool := c.r.UserPoolID; pool != "" {
		res = "risk/" + pool + "/-"
		if id := req.ClientID.get(); id.ok {
			res = "risk/" + pool + "/" + id.s
		}
	}
	var s []Setting
	noAction := func(name string, a obj[riskAction]) {
		v := a.v.EventAction.get()
		if !a.ok || !v.ok {
			return
		}
		if raise, prev := c.transition(res, name+".eventAction", v.s, riskyIf(strings.EqualFold(v.s, "NO_ACTION"))); raise {
			s = append(s, Setting{Name: name + ".eventAction", Value: v.s, Previous: prev})
		}
	}
	notify := func(name string, a obj[riskAction]) {
		v := a.v.Notify.get()
		if !a.ok || !v.ok {
			return
		}
		// Turned off, not merely off: only a known earlier true counts.
		if raise, prev := c.transition(res, name+".notify", v.s, riskyIf(isFalse(v.s))); raise && prev == "true" {
			s = append(s, Setting{Name: name + ".notify", Value: v.s, Previous: prev})
		}
	}
	noAction("compromisedCredentialsRiskConfiguration.actions", req.CompromisedCredentials.v.Actions)
	ato := req.AccountTakeover.v.Actions.v
	for _, a := range []struct {
		name string
		o    obj[riskAction]
	}{{"accountTakeoverRiskConfiguration.actions.highAction", ato.High}, {"accountTakeoverRiskConfiguration.actions.mediumAction", ato.Medium}} {
		noAction(a.name, a.o)
		notify(a.name, a.o)
	}
	if skipped := req.RiskException.v.SkippedIPRangeList; skipped.ok {
		if added, prev := c.added(res, "riskExceptionConfiguration.skippedIPRangeList", skipped.items); len(added) > 0 {
			s = append(s, Setting{Name: "riskExceptionConfiguration.skippedIPRangeList", Value: strings.Join(added, " "), Previous: prev})
		}
	}
	if len(s) > 0 {
		f := c.raise(UserPoolRiskConfigurationWeakened, 0, s...)
		if id := req.ClientID.get(); id.ok {
			f.ClientID = id.s
		}
	}
}

// added records a list setting's items as its value at the record's time
// and returns the items the value as of then did not hold (all when none
// is known), sorted, with that value (PreviousUnknown, PreviousNone).
func (c *call) added(resource, setting string, items []string) ([]string, string) {
	items = sortedCopy(items)
	items = slices.Compact(items)
	if resource == "" {
		return items, PreviousUnknown
	}
	prev, known, ok := c.judge(resource, setting, strings.Join(items, " "))
	if !ok {
		return nil, ""
	}
	switch {
	case !known:
		return items, PreviousUnknown
	case prev == "":
		return items, PreviousNone
	}
	had := strings.Fields(prev)
	var out []string
	for _, it := range items {
		if !slices.Contains(had, it) {
			out = append(out, it)
		}
	}
	return out, prev
}

// groupRole raises a group given a role: its members' ID tokens carry the
// role (cognito:roles), which an identity pool may then vend.
func groupRole(c *call, req, _ *params) {
	if r := req.RoleARN.get(); r.ok {
		s := append(stated("groupName", req.GroupName), Setting{Name: "roleArn", Value: r.s})
		c.raise(GroupRoleChanged, 0, s...)
	}
}

// signInAttribute: an attribute a user signs in or recovers an account
// with, so that changing it hands the account to whoever holds the new
// address.
func signInAttribute(name string) bool {
	switch strings.ToLower(name) {
	case "email", "phone_number":
		return true
	}
	return false
}

func stated(name string, sv scalar) []Setting {
	v := sv.get()
	if !v.ok {
		return nil
	}
	return []Setting{{Name: name, Value: v.s}}
}

func identityProvider(c *call, req, _ *params) {
	var s []Setting
	s = append(s, stated("providerName", req.ProviderName)...)
	s = append(s, stated("providerType", req.ProviderType)...)
	// providerDetails holds client secrets: never read.
	c.raise(IdentityProviderChanged, 0, s...)
}

func domain(c *call, req, _ *params) {
	s := stated("domain", req.Domain)
	if req.CustomDomainConfig.ok {
		s = append(s, stated("customDomainConfig.certificateArn", req.CustomDomainConfig.v.CertificateARN)...)
	}
	c.raise(UserPoolDomainChanged, 0, s...)
}

func isOff(s string) bool { return strings.EqualFold(s, "OFF") }

func (c *call) userPool(req *params) {
	res := userPoolResource(c.r)
	c.watch(UserPoolMFADisabled, res, "mfaConfiguration", req.MFAConfiguration, isOff)
	if req.UserPoolAddOns.ok {
		c.watch(UserPoolThreatProtectionReduced, res, "userPoolAddOns.advancedSecurityMode",
			req.UserPoolAddOns.v.AdvancedSecurityMode, func(s string) bool {
				return isOff(s) || strings.EqualFold(s, "AUDIT")
			})
	}
	if !c.create {
		c.watch(UserPoolDeletionProtectionDisabled, res, "deletionProtection", req.DeletionProtection,
			func(s string) bool { return strings.EqualFold(s, "INACTIVE") })
	}
	if req.AdminCreateUserConfig.ok {
		c.watch(UserPoolSelfSignupEnabled, res, "adminCreateUserConfig.allowAdminCreateUserOnly",
			req.AdminCreateUserConfig.v.AllowAdminCreateUserOnly, isFalse)
	}
	if req.Policies.ok && req.Policies.v.PasswordPolicy.ok {
		c.watch(UserPoolWeakPasswordPolicy, res, "policies.passwordPolicy.minimumLength",
			req.Policies.v.PasswordPolicy.v.MinimumLength, func(s string) bool {
				n, err := strconv.ParseFloat(s, 64)
				return err == nil && n < 8
			})
	}
	if req.LambdaConfig.ok {
		c.lambdaConfig(res, triggers(req.LambdaConfig.v))
	}
}

// lambdaConfig compares the triggers one by one: a restated trigger is
// quiet, an added, replaced or removed one is raised. A trigger absent from
// a restated lambdaConfig is removed (UpdateUserPool resets what it omits).
func (c *call) lambdaConfig(res string, present map[string]string) {
	names := slices.Clone(Triggers)
	for k := range present {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var changed []Setting
	for _, t := range names {
		v, r := present[t], whenNew
		if v == "" {
			r = whenCleared
		}
		if raise, prev := c.transition(res, "lambdaConfig."+t, v, r); raise {
			changed = append(changed, Setting{Name: "lambdaConfig." + t, Value: v, Previous: prev})
		}
		if c.err != nil {
			// The State failed: the file is judged again, and nothing is
			// raised on triggers half read.
			return
		}
	}
	if len(changed) > 0 {
		c.raise(UserPoolTriggersChanged, 0, changed...)
	}
}

// insecureFlows are the explicitAuthFlows that send the password itself
// (no SRP) and the implicit OAuth grant, which returns tokens in the URL.
var insecureFlows = []string{"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH", "implicit"}

func (c *call) client(req, resp *params) {
	clientID := req.ClientID
	if resp.UserPoolClient.ok && resp.UserPoolClient.v.ClientID.ok {
		clientID = resp.UserPoolClient.v.ClientID
	}
	res := ""
	if clientID.ok && c.r.UserPoolID != "" {
		res = "client/" + c.r.UserPoolID + "/" + clientID.s
	}
	start := len(c.out)
	if req.ExplicitAuthFlows.ok || req.AllowedOAuthFlows.ok {
		var bad []string
		for _, f := range append(slices.Clone(req.ExplicitAuthFlows.items), req.AllowedOAuthFlows.items...) {
			if slices.Contains(insecureFlows, f) && !slices.Contains(bad, f) {
				bad = append(bad, f)
			}
		}
		slices.Sort(bad)
		v := strings.Join(bad, " ")
		if raise, prev := c.transition(res, "insecureFlows", v, riskyIf(v != "")); raise {
			c.raise(AppClientInsecureFlowEnabled, 0, Setting{Name: "insecureFlows", Value: v, Previous: prev})
		}
	}
	if req.CallbackURLs.ok || req.LogoutURLs.ok {
		urls := slices.Concat(req.CallbackURLs.items, req.LogoutURLs.items)
		v := "callbackURLs=" + strings.Join(sortedCopy(req.CallbackURLs.items), " ") +
			" logoutURLs=" + strings.Join(sortedCopy(req.LogoutURLs.items), " ")
		if raise, prev := c.transition(res, "redirects", v, riskyIf(len(urls) > 0)); raise {
			sev := Medium
			if slices.ContainsFunc(urls, PlainHTTP) {
				sev = High
			}
			var s []Setting
			for _, u := range sortedCopy(req.CallbackURLs.items) {
				s = append(s, Setting{Name: "callbackURLs", Value: u})
			}
			for _, u := range sortedCopy(req.LogoutURLs.items) {
				s = append(s, Setting{Name: "logoutURLs", Value: u})
			}
			if prev != "" {
				s = append(s, Setting{Name: "redirects", Value: "changed", Previous: prev})
			}
			c.raise(AppClientRedirectsChanged, sev, s...)
		}
	}
	var weak []Setting
	for _, w := range []struct {
		name  string
		v     scalar
		risky func(string) bool
	}{
		{"enableTokenRevocation", req.EnableTokenRevocation, isFalse},
		{"preventUserExistenceErrors", req.PreventUserExistenceErrors, func(s string) bool { return strings.EqualFold(s, "LEGACY") }},
	} {
		v := w.v.get()
		if !v.ok {
			continue
		}
		if raise, prev := c.transition(res, w.name, v.s, riskyIf(w.risky(v.s))); raise {
			weak = append(weak, Setting{Name: w.name, Value: v.s, Previous: prev})
		}
	}
	units := req.TokenValidityUnits.v
	for _, tv := range []struct {
		name string
		n    num
		unit str
		def  validity
	}{
		{"refreshTokenValidity", req.RefreshTokenValidity, units.RefreshToken, validity{30, "days"}},
		{"accessTokenValidity", req.AccessTokenValidity, units.AccessToken, validity{1, "hours"}},
		{"idTokenValidity", req.IDTokenValidity, units.IDToken, validity{1, "hours"}},
		{"authSessionValidity", req.AuthSessionValidity, str{}, validity{3, "minutes"}},
	} {
		d, ok := parseValidity(tv.n.get(), tv.unit.get(), tv.def.unit)
		if !ok {
			// Absent (an update that leaves it out resets it to the
			// default, but a hidden request looks the same) or unreadable.
			continue
		}
		if raise, prev := c.lengthened(res, tv.name, d, tv.def.duration()); raise {
			weak = append(weak, Setting{Name: tv.name, Value: formatValidity(d), Previous: prev})
		}
	}
	if len(weak) > 0 {
		c.raise(AppClientTokensWeakened, 0, weak...)
	}
	for i := start; i < len(c.out); i++ {
		c.out[i].ClientID = clientID.s
	}
}

// PlainHTTP reports an http:// redirect to anything but the local machine:
// it sends codes or tokens in clear text.
func PlainHTTP(u string) bool {
	p, err := url.Parse(u)
	if err != nil || !strings.EqualFold(p.Scheme, "http") {
		return false
	}
	h := p.Hostname()
	return h != "localhost" && h != "127.0.0.1" && h != "::1"
}

// enumerates: a call whose answer tells whether a user exists. A user
// not found says no; a sign-up or an administrator's create refused with
// UsernameExistsException says yes, even with PreventUserExistenceErrors,
// which covers sign-in and recovery only.
func enumerates(r *record.Record) bool {
	switch r.ErrorCode {
	case "UserNotFoundException":
		return true
	case "UsernameExistsException":
		return r.EventName == "SignUp" || r.EventName == "AdminCreateUser"
	}
	return false
}

func (e *Engine) signIn(r *record.Record, c *class.Class, raw []byte) {
	ip := r.SourceIPAddress
	if ip == "" || record.IsHidden(ip) || serviceSource(ip) {
		return
	}
	if !c.Failed {
		if class.TokensIssued(r, c) {
			s := e.ips.lookup(ip)
			if s != nil && s.failures >= e.opts.SignInThreshold && !s.raisedSuccess {
				s.raisedSuccess = true
				s.successBy = e.ipFinding(SignInSuccessAfterFailures, r, raw, s.failures)
			}
		}
		return
	}
	s := e.ips.add(ip)
	e.ips.bump(s)
	if c.SignIn {
		s.failures++
		if s.failures >= e.opts.SignInThreshold && !s.raisedFailures {
			s.raisedFailures = true
			s.failuresBy = e.ipFinding(SignInFailuresFromOneIP, r, raw, s.failures)
		}
	}
	if enumerates(r) {
		s.notFound++
		if s.notFound >= e.opts.EnumerationThreshold && !s.raisedEnumeration {
			s.raisedEnumeration = true
			s.enumerationBy = e.ipFinding(AccountEnumeration, r, raw, s.notFound)
		}
	}
}

// ipFinding raises a per-IP finding on the record that crossed the
// threshold. Only the envelope is decoded (for the user agent and actor),
// once per IP and finding.
func (e *Engine) ipFinding(name string, r *record.Record, raw []byte, n int) raisedBy {
	c := call{Engine: e, r: r}
	var d decoded
	if err := d.decode(raw); err == nil {
		c.env = envelope{UserAgent: d.env.UserAgent, UserIdentity: d.env.UserIdentity}
	}
	c.raise(name, 0).Count = n
	return raisedBy{eventID: r.EventID, unix: r.EventTime.UnixNano()}
}

// Recount sets f.Count, when f is a per-address finding the current file
// raised, to the address's total in the file so far: a finding is raised
// on the record that crosses the threshold, and the address may go on
// failing (16 failures raise at the 15th; the count says 16). A success
// after failures counts the address's failures too. Call it once the file
// is read, before the next StartFile; other findings, those of earlier
// files and those of an address the bounded table has since evicted are
// left as they are.
func (e *Engine) Recount(f *Finding) {
	s := e.ips.lookup(f.SourceIP)
	if s == nil {
		return
	}
	by := raisedBy{eventID: f.EventID, unix: f.Time.UnixNano()}
	switch {
	case f.Name == SignInFailuresFromOneIP && s.raisedFailures && s.failuresBy == by,
		f.Name == SignInSuccessAfterFailures && s.raisedSuccess && s.successBy == by:
		f.Count = s.failures
	case f.Name == AccountEnumeration && s.raisedEnumeration && s.enumerationBy == by:
		f.Count = s.notFound
	}
}

// serviceSource reports a sourceIPAddress that names an AWS service
// (apigateway.amazonaws.com, "AWS Internal") rather than an address: every
// caller behind the service shares it, so it is no attacker to count.
func serviceSource(ip string) bool {
	return strings.HasSuffix(ip, ".amazonaws.com") || ip == "AWS Internal"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
