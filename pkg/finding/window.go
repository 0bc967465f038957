package finding

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// Defaults of the windows across files (Options). Attacks are judged over
// sliding windows of event time, counted in buckets of Bucket.
const (
	// DefaultWindow: sign-in failures from one address, credential
	// stuffing and code brute force. A delivered trail file holds about 5
	// minutes, so 15 minutes spans 3 or 4 files.
	DefaultWindow = 15 * time.Minute
	// DefaultSprayWindow: password spray and targeted brute force are
	// slower (Panther's spray rule counts over 60 minutes).
	DefaultSprayWindow = time.Hour
	// DefaultStuffingFailures and DefaultStuffingSources: a pool (or an
	// app client not resolved to one) failing this many sign-ins from at
	// least this many addresses in a window.
	DefaultStuffingFailures = 50
	DefaultStuffingSources  = 10
	// DefaultSprayUsers: one address failing sign-in for this many distinct
	// users (Panther: more than 9 in 60 minutes).
	DefaultSprayUsers = 10
	// DefaultBruteForceSources: one user failing sign-in from this many
	// distinct addresses.
	DefaultBruteForceSources = 5
	// DefaultCodeFailures: wrong or expired codes from one address.
	DefaultCodeFailures = 10
	// DefaultSMSWindow, DefaultSMSSends, DefaultSMSSourceSends and
	// SMSConfirmedShare: a pool (or app client) asked to send this many
	// codes in the window while under a fifth of its sign-ups are
	// confirmed, or one address asking for this many (SMS pumping: each
	// message is paid for, and no pumped sign-up is ever confirmed).
	DefaultSMSWindow      = time.Hour
	DefaultSMSSends       = 50
	DefaultSMSSourceSends = 10
	// DefaultDeniedCalls: denied configuration calls by one principal
	// in Window (probing what it may change).
	DefaultDeniedCalls = 5
	// DefaultRefreshSources: one user's tokens refreshed from this many
	// distinct addresses in SprayWindow. A user's devices refresh from
	// one or two addresses an hour (home, a phone's network); five means
	// the refresh token is on several machines.
	DefaultRefreshSources = 5
)

// SMSConfirmedShare is the share of code-sending calls confirmed under
// which a pool's volume is pumping (20 %).
const SMSConfirmedShare = 0.2

// Windows are the windows and thresholds of the attacks judged across
// files. A zero field means its default.
type Windows struct {
	Window            time.Duration // DefaultWindow
	SprayWindow       time.Duration // DefaultSprayWindow
	StuffingFailures  int           // DefaultStuffingFailures
	StuffingSources   int           // DefaultStuffingSources
	SprayUsers        int           // DefaultSprayUsers
	BruteForceSources int           // DefaultBruteForceSources
	CodeFailures      int           // DefaultCodeFailures
	SMSWindow         time.Duration // DefaultSMSWindow
	SMSSends          int           // DefaultSMSSends
	SMSSourceSends    int           // DefaultSMSSourceSends
	DeniedCalls       int           // DefaultDeniedCalls
	RefreshSources    int           // DefaultRefreshSources
}

// ErrWindows wraps what ParseWindows refuses.
var ErrWindows = errors.New("finding: windows")

// windowFields name Windows' fields in ParseWindows' syntax.
var windowFields = []string{"window", "sprayWindow", "smsWindow", "stuffingFailures", "stuffingSources", "sprayUsers",
	"bruteForceSources", "codeFailures", "smsSends", "smsSourceSends", "deniedCalls", "refreshSources"}

// ParseWindows reads "name=value,..." (the ATTACK_WINDOWS variable, the
// AttackWindows parameter, the CLI's --windows): window, sprayWindow and
// smsWindow are durations from 5m to 2h ("15m", "1h"), the others
// positive counts.
// Names left out keep their defaults; "" is all defaults.
func ParseWindows(s string) (Windows, error) {
	var w Windows
	if strings.TrimSpace(s) == "" {
		return w, nil
	}
	for _, f := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return w, fmt.Errorf("%w: %q: want name=value (names: %s)", ErrWindows, f, strings.Join(windowFields, ", "))
		}
		switch name {
		case "window", "sprayWindow", "smsWindow":
			d, err := time.ParseDuration(val)
			if err != nil || d < Bucket || d > MaxWindow {
				return w, fmt.Errorf("%w: %s=%q: want a duration from %v to %v", ErrWindows, name, val, Bucket, MaxWindow)
			}
			*map[string]*time.Duration{"window": &w.Window, "sprayWindow": &w.SprayWindow, "smsWindow": &w.SMSWindow}[name] = d
		case "stuffingFailures", "stuffingSources", "sprayUsers", "bruteForceSources", "codeFailures",
			"smsSends", "smsSourceSends", "deniedCalls", "refreshSources":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return w, fmt.Errorf("%w: %s=%q: want a positive integer", ErrWindows, name, val)
			}
			*map[string]*int{"stuffingFailures": &w.StuffingFailures, "stuffingSources": &w.StuffingSources,
				"sprayUsers": &w.SprayUsers, "bruteForceSources": &w.BruteForceSources, "codeFailures": &w.CodeFailures,
				"smsSends": &w.SMSSends, "smsSourceSends": &w.SMSSourceSends, "deniedCalls": &w.DeniedCalls,
				"refreshSources": &w.RefreshSources}[name] = n
		default:
			return w, fmt.Errorf("%w: unknown name %q (names: %s)", ErrWindows, name, strings.Join(windowFields, ", "))
		}
	}
	return w, nil
}

// Limits of the window state: what keeps it bounded under a botnet.
const (
	// Bucket is the grain of event time a file's counts are kept in.
	Bucket = 5 * time.Minute
	// MaxWindow bounds a window's length.
	MaxWindow = 2 * time.Hour
	// WindowEntries bounds the entries a subject keeps, the newest (one
	// per file and bucket): at two files per bucket, MaxWindow's 24
	// buckets fit.
	WindowEntries = 48
	// MaxWindowSubjects is how many subjects of each kind (addresses,
	// users, pools) one file writes: the busiest. Requests per file stay
	// bounded whatever the number of distinct addresses.
	MaxWindowSubjects = 16
	// maxTallies bounds the subjects of each kind one file counts: one
	// first seen after that many others is counted only for its pool.
	maxTallies = 4096
	// sketchSize is k of the bottom-k sketches that count distinct
	// addresses and users: exact below k members, an estimate (about
	// 1/sqrt(k-2) relative error) above.
	sketchSize = 32
)

// Finding names of the attacks judged over windows.
const (
	CredentialStuffing = "credential-stuffing"
	PasswordSpray      = "password-spray"
	TargetedBruteForce = "targeted-brute-force"
	CodeBruteForce     = "code-brute-force"
	SMSPumping         = "sms-pumping"
	ConfigChangeDenied = "config-change-denied"
	RefreshFromManyIPs = "refresh-from-many-ips"
)

// provisionalMark ends the value of a window entry written before its
// file's results were kept (Engine.Windows); Commit writes it without.
const provisionalMark = "p=1"

// Provisional reports a window entry written before its file's results
// were kept (Engine.Windows), which a State holding a batch's writes back
// (the buffered delivery's) writes through at once: the counts of files
// judged at the same time in other invocations must meet.
func Provisional(e Entry) bool {
	return strings.HasPrefix(e.EventID, windowIDPrefix) && strings.HasSuffix(e.Value, provisionalMark)
}

// windowIDPrefix starts a window entry's EventID: entries of a subject
// (never of a setting), which the history cuts by time (cut).
const windowIDPrefix = "w:"

// WindowKey reports whether a State key holds a window subject rather than
// a setting: its items can expire within days.
func WindowKey(key string) bool { return strings.Contains(key, "/window/") }

// kinds of window subjects
const (
	kindIP   = "ip"
	kindUser = "user"
	kindPool = "pool"
	// a principal (userIdentity ARN) making denied configuration calls
	kindPrincipal = "principal"
)

// sketch is a bottom-k sketch of a set of strings: the sketchSize smallest
// 32-bit hashes of its members, ascending. The sketch of a union is the
// bottom k of the members' sketches, whatever the order or grouping: files
// merge in any order and a file counted twice counts once.
type sketch []uint32

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func (s *sketch) add(h uint32) {
	i, found := slices.BinarySearch(*s, h)
	if found || i >= sketchSize {
		return
	}
	*s = slices.Insert(*s, i, h)
	if len(*s) > sketchSize {
		*s = (*s)[:sketchSize]
	}
}

func (s *sketch) union(o sketch) {
	for _, h := range o {
		s.add(h)
	}
}

// count is the number of distinct members: exact (but for hash
// collisions) below sketchSize, else the bottom-k estimate (k-1)/U(k).
func (s sketch) count() int {
	if len(s) < sketchSize {
		return len(s)
	}
	return int(float64(sketchSize-1) * (1 << 32) / (float64(s[sketchSize-1]) + 1))
}

// tally is what one file counted for one subject in one bucket.
type tally struct {
	failures  int    // failed sign-ins
	successes int    // sign-ins that issued tokens (pools only)
	codes     int    // wrong or expired codes
	sends     int    // calls that send a code (class.CodeDelivery)
	confirms  int    // sign-ups confirmed (class.SignUpConfirmation)
	denied    int    // denied configuration calls
	refreshes int    // token refreshes (users only)
	users     sketch // distinct users (sub) failing sign-in
	sources   sketch // distinct addresses failing sign-in
	refreshed sketch // distinct addresses refreshing tokens
	// distinct addresses sending a user's wrong or expired codes
	codeSources sketch
	alone       bool // the file raised sign-in-failures-from-one-ip itself
	// the file raised sign-in-success-after-failures itself (addresses)
	aloneSuccess bool
	first        string // eventID of the subject's first record in the bucket
	last         witness
	// successes of the window's last bucket (sum's, not kept)
	successesAtEnd int
}

// witness is the last record a tally counted: what a window finding a
// file raises tells of the file.
type witness struct {
	index                            int
	region, pool, client, op, source string
}

type tallyKey struct {
	kind, account, subject string
	bucket                 int64
}

// tallyField is one field of a tally as an entry's value holds it: a
// count, a flag or a sketch, under its name.
type tallyField struct {
	name   string
	n      *int
	always bool // a count written even when zero
	flag   *bool
	sk     *sketch
}

// fields lists what an entry's value holds of t, in the order encode
// writes it, so that decodeTally reads back by the same names: counts and
// sketches, no address and no user. An array, not a slice: encode and
// decodeTally run for every entry of every judged subject's history, and
// the array stays on their stacks.
func (t *tally) fields() [13]tallyField {
	return [13]tallyField{
		{name: "f", n: &t.failures, always: true}, {name: "c", n: &t.codes, always: true},
		{name: "o", n: &t.successes}, {name: "m", n: &t.sends}, {name: "k", n: &t.confirms},
		{name: "d", n: &t.denied}, {name: "r", n: &t.refreshes},
		{name: "a", flag: &t.alone}, {name: "b", flag: &t.aloneSuccess},
		{name: "u", sk: &t.users}, {name: "s", sk: &t.sources}, {name: "x", sk: &t.refreshed}, {name: "y", sk: &t.codeSources},
	}
}

// encode writes a tally as an entry's value.
func (t *tally) encode() string {
	var b strings.Builder
	for _, f := range t.fields() {
		sep := " "
		if b.Len() == 0 {
			sep = ""
		}
		switch {
		case f.n != nil && (f.always || *f.n > 0):
			fmt.Fprintf(&b, "%s%s=%d", sep, f.name, *f.n)
		case f.flag != nil && *f.flag:
			b.WriteString(sep + f.name + "=1")
		case f.sk != nil && len(*f.sk) > 0:
			b.WriteString(sep + f.name + "=")
			for i, h := range *f.sk {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%08x", h)
			}
		}
	}
	return b.String()
}

// decodeTally reads what encode wrote; what it cannot read counts nothing
// (an item another version wrote).
func decodeTally(v string) tally {
	var t tally
	fields := t.fields()
	for _, kv := range strings.Fields(v) {
		name, val, ok := strings.Cut(kv, "=")
		i := slices.IndexFunc(fields[:], func(f tallyField) bool { return f.name == name })
		if !ok || i < 0 {
			continue
		}
		switch f := fields[i]; {
		case f.n != nil:
			*f.n, _ = strconv.Atoi(val)
		case f.flag != nil:
			*f.flag = val == "1"
		default:
			var sk sketch
			for _, x := range strings.Split(val, ",") {
				if h, err := strconv.ParseUint(x, 16, 32); err == nil {
					sk.add(uint32(h))
				}
			}
			*f.sk = sk
		}
	}
	return t
}

// At tells the engine the index in its file of the record observed next:
// a window finding names the last record of its subject the file holds.
func (e *Engine) At(index int) { e.index = index }

// codeFailure: a wrong or expired code (MFA, confirmation, reset,
// verification).
func codeFailure(r *record.Record) bool {
	return r.ErrorCode == "CodeMismatchException" || r.ErrorCode == "ExpiredCodeException"
}

// address returns the record's source when it is an address to count:
// not hidden, not an AWS service.
func address(r *record.Record) (string, bool) {
	ip := r.SourceIPAddress
	if ip == "" || record.IsHidden(ip) || serviceSource(ip) {
		return "", false
	}
	return ip, true
}

func accountOf(r *record.Record) string {
	if r.RecipientAccountID != "" {
		return r.RecipientAccountID
	}
	return r.UserIdentity.AccountID
}

// count adds a user pool record to the file's window tallies: failed
// sign-ins per address, user and pool, wrong codes per address.
func (e *Engine) count(r *record.Record, c *class.Class) {
	failure := c.Failed && c.SignIn
	code := codeFailure(r)
	success := class.TokensIssued(r, c)
	send := !c.Failed && class.CodeDelivery(r.EventName)
	confirm := !c.Failed && class.SignUpConfirmation(r.EventName)
	if !failure && !code && !success && !send && !confirm || r.EventTime.IsZero() {
		return
	}
	account, bucket := accountOf(r), r.EventTime.Truncate(Bucket).Unix()
	if send || confirm {
		if pool := poolSubject(r); pool != "" {
			if t := e.tally(kindPool, account, pool, bucket, r, send); t != nil {
				if send {
					t.sends++
				} else {
					t.confirms++
				}
			}
		}
		if ip, ok := address(r); ok && send {
			if t := e.tally(kindIP, account, ip, bucket, r, true); t != nil {
				t.sends++
			}
		}
		return
	}
	if success {
		// The share of failures is what tells stuffing from a busy pool.
		// A pool's successes alone weigh nothing (Tallies): written only
		// with its failures, in whichever bucket of the file they are.
		if pool := poolSubject(r); pool != "" {
			if t := e.tally(kindPool, account, pool, bucket, r, false); t != nil {
				t.successes++
			}
		}
		if ip, ok := address(r); ok {
			// Every address given tokens, not only those that failed
			// in this file: the failures may be in other files.
			k := ipBucket{account, ip, bucket}
			if sc := e.succ[k]; sc != nil {
				sc.n++
			} else if len(e.succ) < maxSuccesses {
				e.succ[k] = &succSeen{n: 1, first: r.EventID, won: e.witness(r)}
			}
		}
		if refresh(r) && !record.IsHidden(r.Sub) && r.Sub != "" {
			if ip, ok := address(r); ok {
				if t := e.tally(kindUser, account, r.Sub, bucket, r, true); t != nil {
					t.refreshes++
					t.refreshed.add(hash32(ip))
				}
			}
		}
		return
	}
	ip, isAddr := address(r)
	user := r.Sub
	if record.IsHidden(user) {
		user = ""
	}
	if code && user != "" {
		// a user's codes guessed from many addresses
		if t := e.tally(kindUser, account, user, bucket, r, true); t != nil {
			t.codes++
			if isAddr {
				t.codeSources.add(hash32(ip))
			}
		}
	}
	if failure {
		if pool := poolSubject(r); pool != "" {
			if t := e.tally(kindPool, account, pool, bucket, r, true); t != nil {
				t.failures++
				if isAddr {
					t.sources.add(hash32(ip))
				}
			}
		}
		if user != "" {
			if t := e.tally(kindUser, account, user, bucket, r, true); t != nil {
				t.failures++
				if isAddr {
					t.sources.add(hash32(ip))
				}
			}
		}
	}
	if isAddr {
		if t := e.tally(kindIP, account, ip, bucket, r, true); t != nil {
			if failure {
				t.failures++
				if user != "" {
					t.users.add(hash32(user))
				}
			}
			if code {
				t.codes++
			}
		}
	}
}

// refresh: a sign-in with a refresh token. The API's auth flows name it;
// the token endpoint's (Token_POST with grant_type refresh_token) records
// name no user, so only the API's count for refresh-from-many-ips.
func refresh(r *record.Record) bool {
	return r.AuthFlow == "REFRESH_TOKEN_AUTH" || r.AuthFlow == "REFRESH_TOKEN"
}

// poolSubject names a record's pool: its user pool, else its app client.
func poolSubject(r *record.Record) string {
	if r.UserPoolID == "" && r.ClientID != "" {
		return clientSubject + r.ClientID
	}
	return r.UserPoolID
}

// clientSubject prefixes a pool subject that is an app client whose pool
// the record does not name.
const clientSubject = "client/"

// poolOf splits a pool subject (poolSubject) into its user pool, or its
// app client when the pool is unknown.
func poolOf(subject string) (pool, client string) {
	if c, ok := strings.CutPrefix(subject, clientSubject); ok {
		return "", c
	}
	return subject, ""
}

// countDenied adds a denied configuration call (user or identity pool) to
// its principal's tally. Rare: the principal is read from the record's
// JSON here rather than by the record parser on every record.
func (e *Engine) countDenied(r *record.Record, raw []byte) {
	if r.EventTime.IsZero() {
		return
	}
	var d decoded
	if err := d.decode(raw); err != nil {
		return
	}
	who := d.env.actor()
	if who == "" {
		return
	}
	if t := e.tally(kindPrincipal, accountOf(r), who, r.EventTime.Truncate(Bucket).Unix(), r, true); t != nil {
		t.denied++
	}
}

// tally returns the file's tally of a subject in a bucket, nil when the
// kind's table is full. The record becomes the tally's witness when it is
// part of an attack (attack), or the first of the tally: a finding names a
// record of the attack, not a user's sign-in that came after it.
func (e *Engine) tally(kind, account, subject string, bucket int64, r *record.Record, attack bool) *tally {
	k := tallyKey{kind, account, subject, bucket}
	t := e.tallies[k]
	if t == nil {
		if e.kinds[kind] >= maxTallies {
			return nil
		}
		e.kinds[kind]++
		t = &tally{first: r.EventID}
		e.tallies[k] = t
	} else if !attack {
		return t
	}
	t.last = e.witness(r)
	return t
}

// witness is what a window finding tells of record r, the one observed.
func (e *Engine) witness(r *record.Record) witness {
	return witness{index: e.index, region: r.AWSRegion, pool: r.UserPoolID, client: r.ClientID,
		op: r.EventName, source: r.SourceIPAddress}
}

// Tallies is what a file counted for the windows, the busiest subjects
// of each kind, to be judged by Engine.Windows.
type Tallies struct {
	subjects []subjectTally
	guests   []guestSeen
	// the sign-ins that issued tokens from addresses not among subjects,
	// to be judged when the account's failing addresses name them
	succ []succEntry
	// per account, the addresses this file writes that failed sign-in,
	// each with its first and last bucket of failures
	failing map[string][]failedSpan
}

// failedSpan is an address's failed sign-ins in one file: its first and
// last bucket with one, and the eventID that names its first bucket.
type failedSpan struct {
	ip          string
	first, last time.Time
	id          string
}

type subjectTally struct {
	kind, account, subject string
	key                    string // the State key
	entries                []Entry
	witnesses              []witness // entries[i]'s
	// entries[i]'s first sign-in that issued tokens, nil for none
	wons []*witness
}

// ipBucket is an address's bucket of one account.
type ipBucket struct {
	account, ip string
	bucket      int64
}

// succSeen is an address's sign-ins that issued tokens in one bucket of a
// file.
type succSeen struct {
	n     int
	first string // the first one's eventID
	won   witness
}

type succEntry struct {
	ipBucket
	succSeen
}

// maxSuccesses bounds the addresses and buckets of sign-ins that issued
// tokens one file keeps: a busy pool's users beyond it are not matched
// against the failing addresses of other files (a failing address of the
// file itself always is).
const maxSuccesses = 8192

// failingKey is an account's failing addresses in the State: each file's
// entry names the addresses it writes as subjects that failed sign-in, each
// with the buckets it failed in, so that a later file in which one of them
// is given tokens reads its history.
func failingKey(account string) string { return subjectKey(account, "failing", "ip") }

// subjectKey is a window subject's State key (WindowKey holds it).
func subjectKey(account, kind, subject string) string {
	return account + "/window/" + kind + "/" + subject
}

// Tallies returns what the current file counted for the windows: for
// each kind, the MaxWindowSubjects busiest subjects (addresses with two
// failures or more, users with two failures or more, every pool with a
// failure). Call it once the file is read.
func (e *Engine) Tallies() *Tallies {
	type subj struct {
		kind, account, subject string
		weight                 int
		buckets                []int64
	}
	subjects := map[[3]string]*subj{}
	for k, t := range e.tallies {
		id := [3]string{k.kind, k.account, k.subject}
		s := subjects[id]
		if s == nil {
			s = &subj{kind: k.kind, account: k.account, subject: k.subject}
			subjects[id] = s
		}
		s.weight += t.failures + t.codes + t.sends + t.confirms + t.denied + t.refreshes
		s.buckets = append(s.buckets, k.bucket)
	}
	byKind := map[string][]*subj{}
	for _, s := range subjects {
		floor := 2
		if s.kind == kindPool || s.kind == kindPrincipal {
			floor = 1
		}
		if s.weight >= floor {
			byKind[s.kind] = append(byKind[s.kind], s)
		}
	}
	out := &Tallies{guests: e.sortedGuests(), failing: map[string][]failedSpan{}}
	// the successes of each address, by bucket
	wonAt := map[[2]string][]int64{}
	for k := range e.succ {
		wonAt[[2]string{k.account, k.ip}] = append(wonAt[[2]string{k.account, k.ip}], k.bucket)
	}
	written := map[[2]string]bool{}
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		ss := byKind[kind]
		slices.SortFunc(ss, func(a, b *subj) int {
			if c := cmp.Compare(b.weight, a.weight); c != 0 {
				return c
			}
			return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.subject, b.subject))
		})
		for _, s := range ss[:min(len(ss), MaxWindowSubjects)] {
			st := subjectTally{kind: s.kind, account: s.account, subject: s.subject,
				key: subjectKey(s.account, s.kind, s.subject)}
			alone, aloneSuccess := false, false
			if s.kind == kindIP {
				if ip := e.ips.lookup(s.subject); ip != nil {
					alone, aloneSuccess = ip.raisedFailures, ip.raisedSuccess
				}
				// An address's sign-ins that issued tokens count
				// in its buckets, with or without failures there.
				for _, b := range wonAt[[2]string{s.account, s.subject}] {
					k := tallyKey{s.kind, s.account, s.subject, b}
					if e.tallies[k] == nil {
						sc := e.succ[ipBucket{s.account, s.subject, b}]
						e.tallies[k] = &tally{first: sc.first, last: sc.won}
						s.buckets = append(s.buckets, b)
					}
				}
				written[[2]string{s.account, s.subject}] = true
			}
			slices.Sort(s.buckets)
			var failed failedSpan
			hasFailed := false
			for _, b := range s.buckets {
				t := e.tallies[tallyKey{s.kind, s.account, s.subject, b}]
				if s.kind == kindIP && t.failures > 0 {
					if !hasFailed {
						failed = failedSpan{ip: s.subject, first: time.Unix(b, 0).UTC(), id: t.first}
						hasFailed = true
					}
					failed.last = time.Unix(b, 0).UTC()
				}
				t.alone, t.aloneSuccess = alone, aloneSuccess
				var won *witness
				if sc := e.succ[ipBucket{s.account, s.subject, b}]; s.kind == kindIP && sc != nil {
					t.successes, won = sc.n, &sc.won
				}
				st.entries = append(st.entries, Entry{Time: time.Unix(b, 0).UTC(), EventID: windowIDPrefix + t.first, Value: t.encode()})
				st.witnesses = append(st.witnesses, t.last)
				st.wons = append(st.wons, won)
			}
			if hasFailed {
				out.failing[s.account] = append(out.failing[s.account], failed)
			}
			out.subjects = append(out.subjects, st)
		}
	}
	for k, sc := range e.succ {
		if !written[[2]string{k.account, k.ip}] {
			out.succ = append(out.succ, succEntry{k, *sc})
		}
	}
	slices.SortFunc(out.succ, func(a, b succEntry) int {
		return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.ip, b.ip), cmp.Compare(a.bucket, b.bucket))
	})
	return out
}

// failingEntry is a file's entry in an account's failing addresses: at
// its first bucket of failures, each address as "IP" when it failed in
// that bucket only, else "IP@F-L", its first and last bucket of failures
// as buckets after the entry's time, so that an address failing hours into
// a long file is matched against sign-ins hours later. The entry is named
// by its first record and a digest of its value: a retried file writes the
// same entry again, and two files that share their first record (one
// delivered in two shapes) keep an entry each. Written provisional and
// never committed, as a hint only (the address's own history decides).
func failingEntry(spans []failedSpan) Entry {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b failedSpan) int { return strings.Compare(a.ip, b.ip) })
	x := Entry{Time: spans[0].first, EventID: spans[0].id}
	for _, sp := range spans[1:] {
		if sp.first.Before(x.Time) {
			x.Time = sp.first
		}
		x.EventID = min(x.EventID, sp.id)
	}
	var v strings.Builder
	v.WriteString("i=")
	for i, sp := range spans {
		if i > 0 {
			v.WriteByte(' ')
		}
		v.WriteString(sp.ip)
		f, l := sp.first.Sub(x.Time)/Bucket, sp.last.Sub(x.Time)/Bucket
		if f != 0 || l != 0 {
			fmt.Fprintf(&v, "@%d-%d", f, l)
		}
	}
	x.Value = v.String()
	sum := sha256.Sum256([]byte(x.Value))
	x.EventID = windowIDPrefix + x.EventID + "/" + hex.EncodeToString(sum[:8])
	return x
}

// failedAt reads one address of a failing entry: the address, and its
// first and last bucket of failures. An address without a span (as
// entries written before spans were kept hold it) failed at the entry's
// time.
func failedAt(x Entry, token string) (ip string, first, last time.Time) {
	if i := strings.LastIndexByte(token, '@'); i > 0 {
		if f, l, ok := strings.Cut(token[i+1:], "-"); ok {
			fb, err1 := strconv.Atoi(f)
			lb, err2 := strconv.Atoi(l)
			if err1 == nil && err2 == nil && fb >= 0 && lb >= fb {
				return token[:i], x.Time.Add(time.Duration(fb) * Bucket), x.Time.Add(time.Duration(lb) * Bucket)
			}
		}
	}
	return token, x.Time, x.Time
}

// suspects reads the failing addresses of each account with sign-ins that
// issued tokens from addresses the file does not write, and returns those
// addresses as subjects: their sign-ins that issued tokens, to be judged
// against their failures in other files. At most MaxWindowSubjects.
func (e *Engine) suspects(ctx context.Context, t *Tallies) ([]subjectTally, error) {
	var out []subjectTally
	failing := map[string]map[string][][2]time.Time{}
	for _, sc := range t.succ {
		f, ok := failing[sc.account]
		if !ok {
			h, err := e.opts.State.Get(ctx, failingKey(sc.account))
			if err != nil {
				return nil, err
			}
			f = map[string][][2]time.Time{}
			for _, x := range h {
				v := strings.TrimSuffix(strings.TrimPrefix(x.Value, "i="), " "+provisionalMark)
				for _, token := range strings.Fields(v) {
					ip, first, last := failedAt(x, token)
					f[ip] = append(f[ip], [2]time.Time{first, last})
				}
			}
			failing[sc.account] = f
		}
		at := time.Unix(sc.bucket, 0).UTC()
		if !slices.ContainsFunc(f[sc.ip], func(x [2]time.Time) bool {
			// a hint: failures up to a window before the sign-in (and
			// an hour more, for the entries without spans, which
			// knew only their file's first bucket)
			return !x[0].After(at) && x[1].After(at.Add(-MaxWindow-time.Hour))
		}) {
			continue
		}
		n := len(out)
		if n == 0 || out[n-1].account != sc.account || out[n-1].subject != sc.ip {
			if n == MaxWindowSubjects {
				break
			}
			out = append(out, subjectTally{kind: kindIP, account: sc.account, subject: sc.ip,
				key: subjectKey(sc.account, kindIP, sc.ip)})
			n++
		}
		won := sc.won
		tl := tally{successes: sc.n}
		out[n-1].entries = append(out[n-1].entries, Entry{Time: at, EventID: windowIDPrefix + sc.first, Value: tl.encode()})
		out[n-1].witnesses = append(out[n-1].witnesses, won)
		out[n-1].wons = append(out[n-1].wons, &won)
	}
	return out, nil
}

// Raised is a window finding and the index in its file of the record it
// names (its subject's last there).
type Raised struct {
	Index int
	Finding
}

// rule is one finding judged over a kind's windows.
type rule struct {
	name   string
	kind   string
	window func(o *Options) time.Duration
	// crossed reports whether a window's sum crosses the threshold, and
	// the count the finding reports with its settings.
	crossed func(o *Options, w *tally) (bool, int, []Setting)
}

var rules = []rule{
	{SignInFailuresFromOneIP, kindIP, signInWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			return w.failures >= o.SignInThreshold && !w.alone, w.failures,
				[]Setting{counted("failures", w.failures)}
		}},
	{SignInSuccessAfterFailures, kindIP, signInWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			// Tokens issued in the window's last bucket to an address
			// that failed the threshold in the window: "after" to the
			// grain of a bucket (in one file, the file's own finding
			// says it to the record).
			return w.successesAtEnd > 0 && w.failures >= o.SignInThreshold && !w.aloneSuccess, w.failures,
				[]Setting{counted("failures", w.failures), counted("successes", w.successesAtEnd)}
		}},
	{PasswordSpray, kindIP, sprayWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			n := w.users.count()
			return n >= o.SprayUsers, n, []Setting{counted("distinctUsers", n),
				counted("failures", w.failures)}
		}},
	{CodeBruteForce, kindIP, signInWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			return w.codes >= o.CodeFailures, w.codes, []Setting{counted("codeFailures", w.codes)}
		}},
	{CodeBruteForce, kindUser, signInWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			// From one address, the address's finding says it.
			n := w.codeSources.count()
			return w.codes >= o.CodeFailures && n >= 2, w.codes, []Setting{counted("codeFailures", w.codes),
				counted("distinctSources", n)}
		}},
	{TargetedBruteForce, kindUser, sprayWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			n := w.sources.count()
			return n >= o.BruteForceSources, n, []Setting{counted("distinctSources", n),
				counted("failures", w.failures)}
		}},
	{SMSPumping, kindPool, smsWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			// Pumped sign-ups are never confirmed.
			return w.sends >= o.SMSSends && float64(w.confirms) < SMSConfirmedShare*float64(w.sends), w.sends,
				[]Setting{counted("codeDeliveries", w.sends), counted("confirmations", w.confirms)}
		}},
	{SMSPumping, kindIP, smsWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			return w.sends >= o.SMSSourceSends, w.sends, []Setting{counted("codeDeliveries", w.sends)}
		}},
	{ConfigChangeDenied, kindPrincipal, signInWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			return w.denied >= o.DeniedCalls, w.denied, []Setting{counted("deniedCalls", w.denied)}
		}},
	{RefreshFromManyIPs, kindUser, sprayWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			n := w.refreshed.count()
			return n >= o.RefreshSources, n, []Setting{counted("distinctSources", n),
				counted("refreshes", w.refreshes)}
		}},
	{CredentialStuffing, kindPool, signInWindow,
		func(o *Options, w *tally) (bool, int, []Setting) {
			// More failures than sign-ins that issued tokens: leaked
			// credentials rarely work, while a busy pool's users mostly
			// sign in.
			n := w.sources.count()
			return w.failures >= o.StuffingFailures && n >= o.StuffingSources && w.failures > w.successes, w.failures,
				[]Setting{counted("failures", w.failures), counted("distinctSources", n),
					counted("successes", w.successes)}
		}},
}

// The windows the rules are judged over.
func signInWindow(o *Options) time.Duration { return o.Window }
func sprayWindow(o *Options) time.Duration  { return o.SprayWindow }
func smsWindow(o *Options) time.Duration    { return o.SMSWindow }

// counted is a count a window finding reports among its settings.
func counted(name string, n int) Setting { return Setting{Name: name, Value: strconv.Itoa(n)} }

// buckets returns a window's length in buckets, at least one, at most
// MaxWindow's.
func buckets(d time.Duration) int64 {
	n := int64((d + Bucket - 1) / Bucket)
	return min(max(n, 1), int64(MaxWindow/Bucket))
}

// Windows judges a file's tallies (its own Tallies, or a deferred read's)
// against the State and returns the window findings the file raises. The
// tallies are merged into the State first, marked provisional, so that of
// two files of one window judged at the same time by two invocations, the
// later writer sees both: a window is raised by the file whose tallies
// make it cross (its sum reaches the threshold where the window one bucket
// earlier did not), judged on the history as written, unless the
// committed entries of other files crossed in the same attack already
// (their files raised it). Commit marks the file's entries committed, once
// the caller keeps its results. A provisional entry counts in every sum
// but never keeps another file from raising: its file may never finish
// (its object deleted before a retry), and a finding is not lost for it.
// A file judged again (a retry) finds its entries in the history, and
// raises what it raised before, unless files of the window came in
// between: the finding is then raised by both (at least once). Each
// finding is named by its subject and window (EventID), so the notices
// send it once whichever file raises it.
//
// A State failure is reported by Err, and nothing is raised: the file must
// be retried.
//
// Windows also returns, for each user pool (or unresolved app client) the
// file counted failed sign-ins for, the distinct failing addresses of
// every credential-stuffing window that holds one of the file's buckets,
// as the State held them: the DistinctFailingSources metric. A later file
// of a window sees at least what an earlier one saw, so the largest value
// published for a window is the one of its last file.
func (e *Engine) Windows(ctx context.Context, t *Tallies) ([]Raised, []Sources) {
	if t == nil {
		return nil, nil
	}
	raised, sources := e.windows(ctx, t)
	return append(raised, e.judgeGuests(ctx, t.guests)...), sources
}

// Sources is the number of distinct addresses that failed sign-in against
// one user pool (or one app client whose pool is unknown: ClientID set,
// UserPoolID empty) in the window of Options.Window ending with the bucket
// that starts at Time.
type Sources struct {
	Time       time.Time
	UserPoolID string
	ClientID   string
	Count      int
}

// sources are s's Sources for the windows holding its own entries.
func (e *Engine) sources(s *subjectTally, h *history) []Sources {
	n := buckets(e.opts.Window)
	var ends []time.Time
	for _, x := range s.entries {
		for k := range n {
			ends = append(ends, x.Time.Add(time.Duration(k)*Bucket))
		}
	}
	slices.SortFunc(ends, time.Time.Compare)
	ends = slices.Compact(ends)
	pool, client := poolOf(s.subject)
	var out []Sources
	var w tally
	for _, end := range ends {
		sum(&w, h.all, h.allT, end, n)
		if c := w.sources.count(); c > 0 {
			out = append(out, Sources{Time: end, UserPoolID: pool, ClientID: client, Count: c})
		}
	}
	return out
}

func (e *Engine) windows(ctx context.Context, t *Tallies) ([]Raised, []Sources) {
	subjects := t.subjects
	if len(t.succ) > 0 {
		more, err := e.suspects(ctx, t)
		if err != nil {
			if e.err == nil {
				e.err = fmt.Errorf("%w: windows: %w", ErrState, err)
			}
			return nil, nil
		}
		subjects = append(slices.Clone(subjects), more...)
	}
	if len(subjects) == 0 {
		return nil, nil
	}
	put := make(map[string][]Entry, len(subjects)+len(t.failing))
	for account, spans := range t.failing {
		x := failingEntry(spans)
		x.Value += " " + provisionalMark
		put[failingKey(account)] = []Entry{x}
	}
	for _, s := range subjects {
		p := make([]Entry, len(s.entries))
		for i, x := range s.entries {
			x.Value += " " + provisionalMark
			p[i] = x
		}
		put[s.key] = p
		// Committed with the file (Merge keeps the smaller of two
		// values of one entry: the committed one, a prefix).
		e.pending[s.key] = append(e.pending[s.key], s.entries...)
	}
	if err := e.opts.State.Put(ctx, put); err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("%w: windows: %w", ErrState, err)
		}
		return nil, nil
	}
	var out []Raised
	var sources []Sources
	for _, s := range subjects {
		h, err := e.opts.State.Get(ctx, s.key)
		if err != nil {
			if e.err == nil {
				e.err = fmt.Errorf("%w: windows: %w", ErrState, err)
			}
			return nil, nil
		}
		// The file's own entries, even those older than all the
		// subject keeps: a late file is judged with its own counts.
		all := slices.Clone(h)
		for _, x := range put[s.key] {
			all, _ = insert(all, x)
		}
		others := slices.DeleteFunc(slices.Clone(all), func(x Entry) bool {
			_, own := slices.BinarySearchFunc(s.entries, x, compareEntries)
			return own || strings.HasSuffix(x.Value, provisionalMark)
		})
		// Decoded once for every rule of the kind: a history holds up
		// to WindowEntries entries of sketches.
		hist := history{all: all, allT: decodeAll(all), others: others, otherT: decodeAll(others)}
		for _, r := range rules {
			if r.kind != s.kind {
				continue
			}
			out = append(out, e.judgeWindows(&r, &s, &hist)...)
		}
		if s.kind == kindPool {
			sources = append(sources, e.sources(&s, &hist)...)
		}
	}
	return out, sources
}

// judgeWindows raises r once per attack the file's entries take part in:
// per run of consecutive crossing windows (an attack as long as it goes
// on), on the run's first window, unless the committed entries of other
// files (others) crossed somewhere in the run already (the file that made
// it cross raised it). Files judged one after the other thus raise each attack
// once, whatever their order; a late file that joins two attacks raises
// nothing more. Two judged at the same moment may both raise it, under
// one EventID.
func (e *Engine) judgeWindows(r *rule, s *subjectTally, h *history) []Raised {
	n := buckets(r.window(&e.opts))
	all, allT, others, otherT := h.all, h.allT, h.others, h.otherT
	first, last := all[0].Time, all[len(all)-1].Time.Add(time.Duration(n-1)*Bucket)
	var w tally
	crosses := func(h []Entry, ts []tally, end time.Time) bool {
		sum(&w, h, ts, end, n)
		ok, _, _ := r.crossed(&e.opts, &w)
		return ok
	}
	// A window holding no entry crosses no threshold (each is at least
	// one): the walk jumps over a subject's quiet hours, as it would
	// have found nothing there. Checked, not assumed.
	quiet := !crosses(nil, nil, first)
	touches := func(end time.Time) bool {
		for _, own := range s.entries {
			if !own.Time.After(end) && own.Time.After(end.Add(-time.Duration(n)*Bucket)) {
				return true
			}
		}
		return false
	}
	var out []Raised
	for end := first; !end.After(last); {
		if !crosses(all, allT, end) {
			end = end.Add(Bucket)
			if i := firstFrom(all, end.Add(-time.Duration(n-1)*Bucket)); quiet && i < len(all) && all[i].Time.After(end) {
				end = all[i].Time
			}
			continue
		}
		start, raise, mine := end, true, false
		for ; !end.After(last) && crosses(all, allT, end); end = end.Add(Bucket) {
			if crosses(others, otherT, end) {
				raise = false
			}
			mine = mine || touches(end)
		}
		if raise && mine && !crosses(all, allT, start.Add(-Bucket)) {
			var at tally
			sum(&at, all, allT, start, n)
			out = append(out, e.windowFinding(r, s, &at, start))
		}
	}
	return out
}

func (e *Engine) windowFinding(r *rule, s *subjectTally, w *tally, end time.Time) Raised {
	_, count, settings := r.crossed(&e.opts, w)
	wit := s.witnesses[len(s.witnesses)-1]
	for i := len(s.entries) - 1; i >= 0; i-- {
		if !s.entries[i].Time.After(end) {
			wit = s.witnesses[i]
			break
		}
	}
	if r.name == SignInSuccessAfterFailures {
		// the sign-in that issued tokens, not a failure
		for i := len(s.entries) - 1; i >= 0; i-- {
			if !s.entries[i].Time.After(end) && s.wons[i] != nil {
				wit = *s.wons[i]
				break
			}
		}
	}
	settings = append([]Setting{{Name: "window", Value: r.window(&e.opts).String()},
		{Name: "windowEnd", Value: end.Add(Bucket).UTC().Format(time.RFC3339)}}, settings...)
	f := Finding{Time: end, Severity: bySpec[r.name].Severity, Name: r.name, Account: s.account,
		Region: wit.region, UserPoolID: wit.pool, ClientID: wit.client, Operation: wit.op,
		EventID: windowEventID(r.name, s.key, end), Settings: settings, Count: count}
	switch s.kind {
	case kindIP:
		f.SourceIP = s.subject
	case kindUser:
		// The user's sub (an opaque id, never a name): what a
		// responder looks the user up by.
		f.Settings = append(f.Settings, Setting{Name: "sub", Value: s.subject})
	case kindPrincipal:
		f.Actor = s.subject
	case kindPool:
		if pool, client := poolOf(s.subject); client != "" {
			f.UserPoolID, f.ClientID = "", client
		} else {
			f.UserPoolID = pool
		}
	}
	return Raised{Index: wit.index, Finding: f}
}

// history is a subject's entries as Windows judges them: all of them
// (the file's own included) and those of other files' committed counts,
// each with its tallies decoded.
type history struct {
	all, others  []Entry
	allT, otherT []tally
}

func decodeAll(h []Entry) []tally {
	ts := make([]tally, len(h))
	for i, x := range h {
		ts[i] = decodeTally(x.Value)
	}
	return ts
}

// sum sets w to the sum of the entries of the n buckets ending with the
// one at end (h sorted by time, ts its tallies decoded). w's sketches are
// reused: judging a subject sums a window per bucket and rule.
func sum(w *tally, h []Entry, ts []tally, end time.Time, n int64) {
	from := end.Add(-time.Duration(n-1) * Bucket)
	*w = tally{users: w.users[:0], sources: w.sources[:0], refreshed: w.refreshed[:0], codeSources: w.codeSources[:0]}
	for i := firstFrom(h, from); i < len(h) && !h[i].Time.After(end); i++ {
		x, t := h[i], &ts[i]
		w.failures += t.failures
		w.successes += t.successes
		if x.Time.Equal(end) {
			w.successesAtEnd += t.successes
		}
		w.codes += t.codes
		w.sends += t.sends
		w.confirms += t.confirms
		w.denied += t.denied
		w.refreshes += t.refreshes
		w.alone = w.alone || t.alone
		w.aloneSuccess = w.aloneSuccess || t.aloneSuccess
		w.users.union(t.users)
		w.sources.union(t.sources)
		w.refreshed.union(t.refreshed)
		w.codeSources.union(t.codeSources)
	}
}

// firstFrom is the index of h's first entry not before t (h sorted by
// time).
func firstFrom(h []Entry, t time.Time) int {
	i, _ := slices.BinarySearchFunc(h, t, func(x Entry, t time.Time) int {
		if x.Time.Before(t) {
			return -1
		}
		return 1
	})
	return i
}

// windowEventID names a window finding by its subject and window, never
// showing the subject (an address or a user's sub) in the id.
func windowEventID(name, key string, end time.Time) string {
	h := sha256.Sum256([]byte(name + " " + key))
	return "window-" + hex.EncodeToString(h[:8]) + "-" + end.UTC().Format("20060102T1504Z")
}
