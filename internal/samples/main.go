package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// account is the one account the sample trail belongs to.
const account = "123456789012"

// userPoolRE matches user pool ids (REGION_ID) in the testdata records.
var userPoolRE = regexp.MustCompile(`\b[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]{5,}\b`)

// seed fixes the output; change it and every sample file changes.
var seed = [2]uint64{2026, 1120}

func main() {
	out := flag.String("out", "events/trails", "directory for the trail files (AWSLogs/... is created under it)")
	readable := flag.String("readable", "", "directory for the uncompressed, indented copy of one small file (default: readable/ next to -out)")
	aws := flag.String("testdata", "pkg/class/testdata/aws", "directory of the real-shaped Cognito records the samples start from")
	flag.Parse()
	if *readable == "" {
		*readable = filepath.Join(filepath.Dir(filepath.Clean(*out)), "readable")
	}
	files, err := Generate(*aws)
	if err == nil {
		err = write(files, *out, *readable)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}

// File is one generated file: its path under the output directory and its
// bytes. Readable files go to the readable directory instead.
type File struct {
	Path     string
	Data     []byte
	Readable bool
}

func write(files []File, out, readable string) error {
	for _, f := range files {
		dir := out
		if f.Readable {
			dir = readable
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// pools are the sample account's Cognito pools, one pair per region.
type pools struct{ user, identity string }

var regionPools = map[string]pools{
	"us-east-1": {"us-east-1_kV3pT9mQx", "us-east-1:6f1d2c3b-8a7e-4d5c-9b0a-1e2f3a4b5c6d"},
	"eu-west-1": {"eu-west-1_Rb7nW2yLc", "eu-west-1:0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"},
}

// Addresses, all in the documentation ranges (RFC 5737).
const (
	adminIP   = "192.0.2.10"     // the team's office, where config changes come from
	backendIP = "198.51.100.7"   // the app's server (Admin* calls, client credentials)
	stuffer1  = "203.0.113.45"   // credential stuffing, also probes ForgotPassword
	stuffer2  = "198.51.100.201" // credential stuffing in both regions
	stuffer3  = "192.0.2.250"
	hostedBad = "203.0.113.46" // password guessing on the hosted UI
	resetter  = "203.0.113.77" // ForgotPassword flood
)

// entry asks for n records from a testdata template. ip "" means a random
// end-user address; sub "" a random user's sub.
type entry struct {
	tmpl string
	n    int
	ip   string
	sub  string
}

// plan is one delivered log file.
type plan struct {
	region   string
	delivery string // HHMM of the delivery window, 2026-11-20
	kind     string // "CloudTrail" or "CloudTrail-Insight"
	others   int    // non-Cognito records
	cognito  []entry
	readable bool
}

var plans = []plan{
	{region: "us-east-1", delivery: "1005", kind: "CloudTrail", others: 75, cognito: []entry{
		{tmpl: "idp-initiateauth-srp-success", n: 6},
		{tmpl: "idp-respondtoauthchallenge-success", n: 6},
		{tmpl: "idp-admininitiateauth-success", n: 3, ip: backendIP},
		{tmpl: "idp-signup", n: 2},
		{tmpl: "idp-admincreateuser", n: 1, ip: adminIP},
		{tmpl: "idp-initiateauth-notauthorized", n: 2},
		{tmpl: "idp-updateuserpool", n: 1, ip: adminIP},
		{tmpl: "idp-createuserpoolclient", n: 1, ip: adminIP},
		{tmpl: "hostedui-login-get", n: 3},
		{tmpl: "hostedui-cognitoauthentication-success-assembled", n: 3},
		{tmpl: "hostedui-token-post-authcode", n: 3},
		{tmpl: "hostedui-token-post-refresh", n: 2},
		{tmpl: "hostedui-signup-get", n: 1},
		{tmpl: "hostedui-signup-post", n: 1},
		{tmpl: "hostedui-confirm-post", n: 1},
		{tmpl: "identity-getid-data", n: 3},
		{tmpl: "identity-getcredentialsforidentity-data", n: 3},
		{tmpl: "identity-getcredentialsforidentity-unauth-data", n: 2},
		{tmpl: "identity-getopenidtoken-data", n: 1},
		{tmpl: "webid-s3-putobject-auth", n: 3},
		{tmpl: "webid-s3-getobject-unauth", n: 3},
		{tmpl: "sts-assumerolewithwebidentity-cognito", n: 1},
	}},
	{region: "us-east-1", delivery: "1010", kind: "CloudTrail", others: 85, cognito: []entry{
		{tmpl: "idp-initiateauth-notauthorized", n: 14, ip: stuffer1},
		{tmpl: "idp-initiateauth-notauthorized", n: 9, ip: stuffer2},
		{tmpl: "idp-initiateauth-notauthorized", n: 5, ip: stuffer3},
		{tmpl: "idp-respondtoauthchallenge-notauthorized", n: 2},
		{tmpl: "idp-admininitiateauth-notauthorized", n: 2, ip: backendIP},
		{tmpl: "idp-initiateauth-srp-success", n: 5},
		{tmpl: "idp-respondtoauthchallenge-success", n: 5},
		{tmpl: "idp-forgotpassword", n: 3},
		{tmpl: "idp-forgotpassword", n: 4, ip: stuffer1},
		{tmpl: "idp-forgotpassword-limitexceeded", n: 1, ip: stuffer1},
		{tmpl: "hostedui-cognitoauthentication-failed-assembled", n: 3, ip: hostedBad},
		{tmpl: "hostedui-login-get", n: 2},
		{tmpl: "hostedui-token-post-authcode", n: 2},
		{tmpl: "hostedui-token-post-clientcredentials", n: 2, ip: backendIP},
		{tmpl: "identity-getid-notauthorized-data", n: 1},
		{tmpl: "identity-getid-data", n: 2},
		{tmpl: "webid-dynamodb-scan-accessdenied-auth", n: 1},
	}},
	// CloudTrail sometimes delivers more than one file for a window.
	{region: "us-east-1", delivery: "1010", kind: "CloudTrail", others: 10, readable: true, cognito: []entry{
		{tmpl: "sync-listrecords", n: 2},
		{tmpl: "sync-updaterecords-resourceconflict", n: 1},
		{tmpl: "sts-assumerolewithwebidentity-cognito-accessdenied", n: 1},
		{tmpl: "sts-assumerolewithwebidentity-cognito-amazon-com-variant", n: 1},
		{tmpl: "identity-getopenidtokenfordeveloperidentity-data", n: 1, ip: backendIP},
		{tmpl: "identity-unlinkidentity-data", n: 1},
		{tmpl: "idp-setuserpoolmfaconfig", n: 1, ip: adminIP},
		{tmpl: "idp-forgotpassword", n: 1},
	}},
	{region: "us-east-1", delivery: "1015", kind: "CloudTrail", others: 70, cognito: []entry{
		{tmpl: "idp-updateuserpoolclient", n: 1, ip: adminIP},
		{tmpl: "idp-updateuserpool-accessdenied", n: 1},
		{tmpl: "idp-createidentityprovider", n: 1, ip: adminIP},
		{tmpl: "identity-updateidentitypool", n: 1, ip: adminIP},
		{tmpl: "identity-setidentitypoolroles", n: 1, ip: adminIP},
		{tmpl: "identity-setprincipaltagattributemap", n: 1, ip: adminIP},
		{tmpl: "identity-describeidentitypool", n: 2, ip: adminIP},
		{tmpl: "old-1.03-identity-createidentitypool", n: 1, ip: adminIP},
		{tmpl: "managedlogin-login-post-assembled", n: 4},
		{tmpl: "managedlogin-login-post-failed-assembled", n: 2},
		{tmpl: "hostedui-saml2response-post", n: 2},
		{tmpl: "hostedui-token-post-clientcredentials", n: 1, ip: backendIP},
		{tmpl: "idp-initiateauth-srp-success", n: 4},
		{tmpl: "idp-respondtoauthchallenge-success", n: 4},
		{tmpl: "idp-initiateauth-notauthorized", n: 3, ip: stuffer1},
		{tmpl: "idp-forgotpassword", n: 6, ip: resetter},
		{tmpl: "identity-getcredentialsforidentity-data", n: 2},
		{tmpl: "webid-s3-getobject-unauth", n: 2},
		{tmpl: "webid-s3-putobject-auth", n: 1},
		{tmpl: "messy-requestparameters-string-synthetic", n: 1},
		{tmpl: "old-1.04-s3-deletebucket-assumedrole", n: 1, ip: adminIP},
		{tmpl: "hidden-consolelogin-failure-username", n: 1},
		{tmpl: "sts-assumerolewithwebidentity-oidc-docs", n: 1},
	}},
	{region: "us-east-1", delivery: "1015", kind: "CloudTrail-Insight", cognito: []entry{
		{tmpl: "insight-apicallrate-start", n: 1},
		{tmpl: "insight-apicallrate-end", n: 1},
		{tmpl: "insight-attributions-start", n: 1},
	}},
	{region: "eu-west-1", delivery: "1005", kind: "CloudTrail", others: 50, cognito: []entry{
		{tmpl: "managedlogin-login-post-assembled", n: 6},
		{tmpl: "managedlogin-login-post-failed-assembled", n: 1},
		{tmpl: "hostedui-token-post-authcode", n: 4},
		{tmpl: "idp-initiateauth-srp-success", n: 3},
		{tmpl: "idp-respondtoauthchallenge-success", n: 3},
		{tmpl: "idp-initiateauth-notauthorized", n: 3, ip: stuffer2},
		{tmpl: "identity-getid-data", n: 2},
		{tmpl: "identity-getcredentialsforidentity-unauth-data", n: 2},
		{tmpl: "webid-s3-getobject-unauth", n: 2},
	}},
	{region: "eu-west-1", delivery: "1015", kind: "CloudTrail", others: 50, cognito: []entry{
		{tmpl: "managedlogin-login-post-assembled", n: 5},
		{tmpl: "managedlogin-login-post-failed-assembled", n: 2, ip: stuffer2},
		{tmpl: "hostedui-token-post-refresh", n: 3},
		{tmpl: "idp-initiateauth-srp-success", n: 2},
		{tmpl: "idp-respondtoauthchallenge-success", n: 2},
		{tmpl: "idp-forgotpassword", n: 1},
		{tmpl: "idp-updateuserpoolclient", n: 1, ip: adminIP},
		{tmpl: "identity-getcredentialsforidentity-data", n: 2},
		{tmpl: "webid-s3-putobject-auth", n: 1},
	}},
}

type gen struct {
	rng       *rand.Rand
	templates map[string][]byte // compact JSON by file name without .json
	subs      []string
	parser    *record.Parser
}

// Generate builds every sample file from the records in the testdata
// directory aws.
func Generate(aws string) ([]File, error) {
	g := &gen{rng: rand.New(rand.NewPCG(seed[0], seed[1])), templates: map[string][]byte{}, parser: record.NewParser()}
	paths, err := filepath.Glob(filepath.Join(aws, "*.json"))
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		g.templates[strings.TrimSuffix(filepath.Base(p), ".json")] = c.Bytes()
	}
	for range 12 {
		g.subs = append(g.subs, g.uuid())
	}
	var files []File
	var logs []digestLog
	for _, p := range plans {
		recs, err := g.records(p)
		if err != nil {
			return nil, err
		}
		body := trailJSON(recs, "")
		name := fmt.Sprintf("AWSLogs/%s/%s/%s/2026/11/20/%s_%s_%s_20261120T%sZ_%s.json.gz",
			account, p.kind, p.region, account, p.kind, p.region, p.delivery, g.alnum(16))
		files = append(files, File{Path: name, Data: gzipBytes(body)})
		if p.readable {
			files = append(files, File{Path: strings.TrimSuffix(filepath.Base(name), ".gz"), Data: append(trailJSON(recs, "    "), '\n'), Readable: true})
		}
		if p.kind == "CloudTrail" && p.region == "us-east-1" {
			logs = append(logs, newDigestLog(name, body, recs))
		}
	}
	files = append(files, g.digest("us-east-1", logs))
	return files, nil
}

// trailJSON is a delivered file's content: CloudTrail writes it on one line.
func trailJSON(recs []object, indent string) []byte {
	var b bytes.Buffer
	encode(&b, object{{"Records", toAny(recs)}}, indent, "")
	return b.Bytes()
}

func toAny(recs []object) []any {
	a := make([]any, len(recs))
	for i, r := range recs {
		a[i] = r
	}
	return a
}

// gzipBytes compresses without a modification time or name in the header,
// so the bytes depend only on the content.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

const timeLayout = "2006-01-02T15:04:05Z"

// window returns the span a file's events fall in: the five minutes before
// its delivery, less the half minute CloudTrail takes to write it.
func window(p plan) (time.Time, time.Time) {
	end, err := time.Parse("200601021504", "20261120"+p.delivery)
	if err != nil {
		panic(err)
	}
	end = end.Add(-30 * time.Second)
	return end.Add(-5 * time.Minute), end
}

type timed struct {
	t   time.Time
	rec object
}

func (g *gen) records(p plan) ([]object, error) {
	start, end := window(p)
	span := end.Sub(start)
	var recs []timed
	for _, e := range p.cognito {
		if _, ok := g.templates[e.tmpl]; !ok {
			return nil, fmt.Errorf("no testdata record %s.json", e.tmpl)
		}
		// A burst from one address is packed into a minute or so.
		bStart, bSpan := start, span
		if e.ip != "" && e.n >= 4 {
			bStart = start.Add(time.Duration(g.rng.Int64N(int64(span - 90*time.Second))))
			bSpan = 90 * time.Second
		}
		for range e.n {
			t := bStart.Add(time.Duration(g.rng.Int64N(int64(bSpan))) / time.Second * time.Second)
			r, err := g.cognito(e, p.region, t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.tmpl, err)
			}
			recs = append(recs, timed{t, r})
		}
	}
	for range p.others {
		t := start.Add(time.Duration(g.rng.Int64N(int64(span))) / time.Second * time.Second)
		r, err := g.other(p.region, t)
		if err != nil {
			return nil, err
		}
		recs = append(recs, timed{t, r})
	}
	slices.SortStableFunc(recs, func(a, b timed) int { return a.t.Compare(b.t) })
	// Files are roughly, not strictly, in time order.
	for i := 1; i < len(recs); i++ {
		if g.rng.IntN(8) == 0 {
			recs[i-1], recs[i] = recs[i], recs[i-1]
		}
	}
	out := make([]object, len(recs))
	for i, r := range recs {
		out[i] = r.rec
	}
	return out, nil
}

// cognito makes a record from a testdata template, moved into the sample
// account, region, pools and time.
func (g *gen) cognito(e entry, region string, t time.Time) (object, error) {
	raw := g.templates[e.tmpl]
	var r record.Record
	if _, err := g.parser.Parse(raw, &r); err != nil && r.EventVersion == "" {
		return nil, err
	}
	s := string(raw)
	pl := regionPools[region]
	// Every user pool id, not only the one the parser picked: logins maps
	// and amr issuers name pools too.
	s = userPoolRE.ReplaceAllString(s, pl.user)
	if r.IdentityPoolID != "" {
		s = strings.ReplaceAll(s, r.IdentityPoolID, pl.identity)
	}
	if r.Sub != "" {
		sub := e.sub
		if sub == "" {
			sub = g.subs[g.rng.IntN(len(g.subs))]
		}
		s = strings.ReplaceAll(s, r.Sub, sub)
	}
	for _, a := range []string{r.RecipientAccountID, r.UserIdentity.AccountID} {
		if a == "" || a == account {
			continue
		}
		s = strings.NewReplacer(":"+a+":", ":"+account+":",
			`"accountId":"`+a+`"`, `"accountId":"`+account+`"`,
			`"recipientAccountId":"`+a+`"`, `"recipientAccountId":"`+account+`"`).Replace(s)
	}
	if r.AWSRegion != "" && r.AWSRegion != region {
		s = strings.ReplaceAll(s, r.AWSRegion, region)
	}
	v, err := parse([]byte(s))
	if err != nil {
		return nil, err
	}
	o := v.(object)
	g.stamp(o, t)
	if ip := o.str("sourceIPAddress"); ip != "" {
		if _, err := netip.ParseAddr(ip); err == nil {
			if e.ip != "" {
				o.set("sourceIPAddress", e.ip)
			} else {
				o.set("sourceIPAddress", g.userIP())
			}
		}
	}
	return o, nil
}

// stamp gives a record its time and fresh ids.
func (g *gen) stamp(o object, t time.Time) {
	o.set("eventTime", t.Format(timeLayout))
	o.set("eventID", g.uuid())
	if _, ok := o.get("requestID").(string); ok {
		o.set("requestID", g.uuid())
	}
	if o.str("sharedEventID") != "" {
		o.set("sharedEventID", g.uuid())
	}
	if a := o.obj("userIdentity").obj("sessionContext").obj("attributes"); a != nil {
		if a.str("creationDate") != "" {
			a.set("creationDate", t.Add(-time.Duration(1+g.rng.IntN(50))*time.Minute).Format(timeLayout))
		}
	}
	if c := o.obj("responseElements").obj("credentials"); c.str("expiration") != "" {
		c.set("expiration", t.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM"))
	}
}

func (g *gen) other(region string, t time.Time) (object, error) {
	total := 0
	for _, tm := range otherTemplates {
		total += tm.weight
	}
	n := g.rng.IntN(total)
	var tm otherTemplate
	for _, tm = range otherTemplates {
		if n -= tm.weight; n < 0 {
			break
		}
	}
	role := appRoles[g.rng.IntN(len(appRoles))]
	svc, _, _ := strings.Cut(tm.name, "-")
	s := strings.NewReplacer(
		"@ACCT@", account,
		"@REGION@", region,
		"@IP@", fmt.Sprintf("203.0.113.%d", 10+g.rng.IntN(20)),
		"@RID16@", strings.ToUpper(g.alnum(16)),
		"@RID32@", strings.ToUpper(g.alnum(32)),
		"@RID@", g.uuid(),
		"@AKID@", "ASIA"+strings.ToUpper(g.alnum(16)),
		"@PRINC@", role.principal,
		"@ROLE@", role.role,
		"@SESS@", role.session,
		"@START@", t.Add(-time.Duration(1+g.rng.IntN(50))*time.Minute).Format(timeLayout),
		"@UUID@", g.uuid(),
		"@N@", fmt.Sprint(1+g.rng.IntN(60)),
		"@HOST@", svc+"."+region+".amazonaws.com",
	).Replace(tm.json)
	v, err := parse([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", tm.name, err)
	}
	o := v.(object)
	g.stamp(o, t)
	return o, nil
}

// userIP is an end user's address.
func (g *gen) userIP() string {
	if g.rng.IntN(2) == 0 {
		return fmt.Sprintf("198.51.100.%d", 10+g.rng.IntN(90))
	}
	return fmt.Sprintf("192.0.2.%d", 20+g.rng.IntN(80))
}

func (g *gen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const alnumChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (g *gen) alnum(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnumChars[g.rng.IntN(len(alnumChars))]
	}
	return string(b)
}

type digestLog struct {
	path           string
	hash           string
	oldest, newest string
}

func newDigestLog(path string, body []byte, recs []object) digestLog {
	sum := sha256.Sum256(body)
	d := digestLog{path: path, hash: hex.EncodeToString(sum[:])}
	for _, r := range recs {
		t := r.str("eventTime")
		if d.oldest == "" || t < d.oldest {
			d.oldest = t
		}
		if t > d.newest {
			d.newest = t
		}
	}
	return d
}

// digest writes the hourly digest file for one region, in the shape of
// pkg/trailfile/testdata/digest.json. Its hashes are the real SHA-256 of the
// uncompressed log files it lists; its signatures are random hex, since no
// one can verify them without AWS's key anyway.
func (g *gen) digest(region string, logs []digestLog) File {
	const bucket = "aws-cloudtrail-logs-123456789012-3f8a1c2e"
	const trail = "management-events"
	end := "2026-11-20T10:17:43Z"
	obj := fmt.Sprintf("AWSLogs/%s/CloudTrail-Digest/%s/2026/11/20/%s_CloudTrail-Digest_%s_%s_%s_20261120T101743Z.json.gz",
		account, region, account, region, trail, region)
	prev := strings.Replace(obj, "T101743Z", "T091743Z", 1)
	var lf []any
	oldest, newest := "", ""
	for _, l := range logs {
		lf = append(lf, object{
			{"s3Bucket", bucket}, {"s3Object", l.path}, {"hashValue", l.hash},
			{"hashAlgorithm", "SHA-256"}, {"newestEventTime", l.newest}, {"oldestEventTime", l.oldest},
		})
		if oldest == "" || l.oldest < oldest {
			oldest = l.oldest
		}
		if l.newest > newest {
			newest = l.newest
		}
	}
	prevHash := sha256.Sum256([]byte(prev))
	o := object{
		{"awsAccountId", account},
		{"digestStartTime", "2026-11-20T09:17:43Z"},
		{"digestEndTime", end},
		{"digestS3Bucket", bucket},
		{"digestS3Object", obj},
		{"digestPublicKeyFingerprint", g.hex(16)},
		{"digestSignatureAlgorithm", "SHA256withRSA"},
		{"newestEventTime", newest},
		{"oldestEventTime", oldest},
		{"previousDigestS3Bucket", bucket},
		{"previousDigestS3Object", prev},
		{"previousDigestHashValue", hex.EncodeToString(prevHash[:])},
		{"previousDigestHashAlgorithm", "SHA-256"},
		{"previousDigestSignature", g.hex(256)},
		{"logFiles", lf},
	}
	var b bytes.Buffer
	encode(&b, o, "", "")
	return File{Path: obj, Data: gzipBytes(b.Bytes())}
}

func (g *gen) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return hex.EncodeToString(b)
}
