package record

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/internal/jsonscan"
)

// Record holds the fields of one CloudTrail record that classification,
// metrics and reports use. Everything else in the record is skipped while
// parsing and never materialised, which is also why no request parameter,
// response element, token or user name can leak from here.
type Record struct {
	EventVersion    string
	EventTime       time.Time
	EventSource     string
	EventName       string
	EventType       string
	EventCategory   string
	EventID         string
	AWSRegion       string
	SourceIPAddress string
	ErrorCode       string
	// RecipientAccountID is the account the event was delivered to.
	RecipientAccountID string
	// ReadOnly is "true", "false" or empty (records before eventVersion 1.05).
	ReadOnly string

	UserIdentity UserIdentity

	// UserPoolID and IdentityPoolID are the pools the record is about, from
	// requestParameters, additionalEventData, responseElements, resources or
	// the identity pool credentials used. Values marked hidden are dropped.
	UserPoolID     string
	IdentityPoolID string
	// Sub is additionalEventData.sub: Cognito logs the user's sub, never the
	// user name, for requests specific to a user.
	Sub string
	// HTTPStatus is additionalEventData.responseParameters.status of an
	// endpoint (hosted UI / managed login) event; 0 when absent.
	HTTPStatus int
	// AuthFlow is requestParameters.authFlow of InitiateAuth and
	// AdminInitiateAuth (USER_SRP_AUTH, REFRESH_TOKEN_AUTH, ...): an enum.
	AuthFlow string
	// Challenge is responseElements.challengeName: the sign-in call was
	// answered with a challenge (PASSWORD_VERIFIER, SMS_MFA, ...), not with
	// tokens.
	Challenge string
	// Logins is whether requestParameters.logins names a provider: an
	// identity pool call without it (GetId, GetCredentialsForIdentity) is
	// a guest's. Only whether it does: the tokens it maps are secrets.
	Logins bool
	// Provider is the web identity provider of an AssumeRoleWithWebIdentity
	// call (responseElements.provider).
	Provider string
	// RoleARN is requestParameters.roleArn of an AssumeRoleWithWebIdentity call.
	RoleARN string
	// ClientID is the user pool app client the call was made through:
	// requestParameters.clientId of the API calls (InitiateAuth,
	// RespondToAuthChallenge, SignUp, ForgotPassword, ... carry it, and
	// AdminInitiateAuth, UpdateUserPoolClient carry it beside userPoolId),
	// responseElements.userPoolClient.clientId of Create/Describe/
	// UpdateUserPoolClient, or additionalEventData.requestParameters.client_id
	// of hosted UI and managed login events (an array, as in the published
	// Login_GET and Token_POST examples of the Cognito Developer Guide,
	// "Example Amazon Cognito events"). Hidden or malformed values are
	// dropped (see IsClientID).
	ClientID string
}

// UserIdentity is the narrow part of the userIdentity element.
type UserIdentity struct {
	Type             string
	AccountID        string
	InvokedBy        string
	IdentityProvider string
	// SessionIssuerARN is sessionContext.sessionIssuer.arn: for identity pool
	// credentials, the role the pool vended.
	SessionIssuerARN string
	// WebIDProvider is sessionContext.webIdFederationData.federatedProvider.
	WebIDProvider string
	// AMR is the cognito-identity.amazonaws.com:amr attribute of the web
	// identity federation data, as logged (a JSON-ish list in a string).
	AMR string
	// Aud is the cognito-identity.amazonaws.com:aud attribute: the identity
	// pool id.
	Aud string
}

// Hidden values: what real records carry, and what the documentation says.
const (
	HiddenValue    = "HIDDEN_DUE_TO_SECURITY_REASONS"
	HiddenValueDoc = "HIDDEN_FOR_SECURITY_REASONS"
)

// Errors for a record that is valid JSON but cannot be used.
var (
	ErrNotObject = errors.New("record: not a JSON object")
	ErrEventTime = errors.New("record: missing or invalid eventTime")
	// ErrFieldType: a member the record is classified by (eventSource,
	// eventName, errorCode, ...) is not a string.
	ErrFieldType = errors.New("record: member of the wrong type")
)

// IsHidden reports whether v is one of Cognito's masked values.
func IsHidden(v string) bool { return v == HiddenValue || v == HiddenValueDoc }

// Parser decodes records. It interns the low-cardinality strings it sees
// (event sources, names, regions, account ids) so that a file of a million
// records allocates them once. A Parser is not safe for concurrent use.
type Parser struct {
	s jsonscan.Scanner
	// intern maps a string as the record writes it (escapes and all) to
	// its value, so that a value with escapes (an amr of
	// "[\"unauthenticated\"]" on every guest call) is unescaped once too.
	intern map[string]internEntry
	recent [1 << recentBits]internEntry
}

const recentBits = 8

// internEntry is a string's raw form and its value: the same string
// unless the raw form has escapes.
type internEntry struct{ raw, val string }

// maxInterned bounds the intern table; past it strings are allocated.
const maxInterned = 8192

// NewParser returns a Parser.
func NewParser() *Parser {
	return &Parser{intern: make(map[string]internEntry, 256)}
}

// Parse decodes the record that starts at buf[0] into r and returns the
// number of bytes it spans. It returns jsonscan.ErrShort when buf ends inside
// the record, a *jsonscan.SyntaxError for malformed JSON, and ErrNotObject or
// ErrEventTime (with n set, so the caller can continue) for a well-formed
// value that is not a usable record.
func (p *Parser) Parse(buf []byte, r *Record) (n int, err error) {
	*r = Record{}
	s := &p.s
	s.Reset(buf)
	if s.Kind() != jsonscan.Object {
		s.Skip()
		if s.Err() != nil {
			return s.Pos, s.Err()
		}
		return s.Pos, ErrNotObject
	}
	var eventTime []byte
	var typeErr error
	s.Open('{')
	for s.Next('}') {
		k := s.Key()
		switch string(k) {
		case "eventVersion":
			r.EventVersion = p.text(&typeErr, "eventVersion", p.interned)
		case "eventTime":
			eventTime, _ = s.Scalar()
		case "eventSource":
			r.EventSource = p.text(&typeErr, "eventSource", p.interned)
		case "eventName":
			r.EventName = p.text(&typeErr, "eventName", p.interned)
		case "eventType":
			r.EventType = p.text(&typeErr, "eventType", p.interned)
		case "eventCategory":
			r.EventCategory = p.text(&typeErr, "eventCategory", p.interned)
		case "eventID":
			r.EventID = p.text(&typeErr, "eventID", p.alloc)
		case "awsRegion":
			r.AWSRegion = p.text(&typeErr, "awsRegion", p.interned)
		case "sourceIPAddress":
			r.SourceIPAddress = p.text(&typeErr, "sourceIPAddress", p.interned)
		case "errorCode":
			r.ErrorCode = p.text(&typeErr, "errorCode", p.interned)
		case "recipientAccountId":
			r.RecipientAccountID = p.text(&typeErr, "recipientAccountId", p.interned)
		case "readOnly":
			// A boolean in CloudTrail; "true" and "false" as strings too.
			if k := s.Kind(); k == jsonscan.Bool || k == jsonscan.String {
				r.ReadOnly = p.str()
			} else {
				p.text(&typeErr, "readOnly", p.interned)
			}
		case "userIdentity":
			p.userIdentity(&r.UserIdentity)
		case "requestParameters":
			if p.mayBeCognito(r) {
				p.requestParameters(r)
			} else {
				s.Skip()
			}
		case "responseElements":
			if p.mayBeCognito(r) {
				p.responseElements(r)
			} else {
				s.Skip()
			}
		case "additionalEventData":
			if p.mayBeCognito(r) {
				p.additionalEventData(r)
			} else {
				s.Skip()
			}
		case "resources":
			if p.mayBeCognito(r) {
				p.resources(r)
			} else {
				s.Skip()
			}
		default:
			s.Skip()
		}
	}
	if err := s.Err(); err != nil {
		return s.Pos, err
	}
	t, ok := parseTime(eventTime)
	if !ok {
		return s.Pos, ErrEventTime
	}
	if typeErr != nil {
		return s.Pos, typeErr
	}
	r.EventTime = t
	if r.IdentityPoolID == "" && isIdentityPoolID(r.UserIdentity.Aud) {
		r.IdentityPoolID = r.UserIdentity.Aud
	}
	return s.Pos, nil
}

// mayBeCognito reports whether the nested elements that only Cognito-related
// records need (pool ids, sub, HTTP status, the STS provider) are worth
// descending into. In CloudTrail's key order eventSource and userIdentity
// come first, so for the great majority of records in an account trail,
// which are not Cognito activity, those elements are skipped in one pass.
// When eventSource has not been seen yet the answer is yes: correct, just
// slower.
func (p *Parser) mayBeCognito(r *Record) bool {
	switch r.EventSource {
	case "", "cognito-idp.amazonaws.com", "cognito-identity.amazonaws.com",
		"cognito-sync.amazonaws.com", "sts.amazonaws.com":
		return true
	}
	return r.UserIdentity.WebIDProvider != ""
}

// text reads a member the record is classified and counted by, which must
// be a string: null reads as absent, and another type (a number, a
// boolean, an object) sets *typeErr, once, to an ErrFieldType naming the
// member, and reads as absent. Such a record is not used: a numeric
// eventSource would be counted as some other service's call.
func (p *Parser) text(typeErr *error, name string, read func(raw []byte, esc bool) string) string {
	switch k := p.s.Kind(); k {
	case jsonscan.String:
		return read(p.s.String())
	case jsonscan.Null:
		p.s.Skip()
	case jsonscan.Number, jsonscan.Bool, jsonscan.Object, jsonscan.Array:
		p.s.Skip()
		if *typeErr == nil {
			*typeErr = fmt.Errorf("%w: %s is %s, want a string", ErrFieldType, name, kindName[k])
		}
	default:
		p.s.Skip()
	}
	return ""
}

var kindName = map[jsonscan.Kind]string{
	jsonscan.Number: "a number", jsonscan.Bool: "a boolean",
	jsonscan.Object: "an object", jsonscan.Array: "an array",
}

// str reads a scalar as an interned string.
func (p *Parser) str() string { return p.interned(p.s.Scalar()) }

// interned returns the string raw, unescaped when esc, interned.
func (p *Parser) interned(raw []byte, esc bool) string {
	if len(raw) == 0 {
		return ""
	}
	// A direct-mapped cache in front of the intern table: consecutive
	// records repeat most values, and a compare is cheaper than a hash
	// lookup.
	slot := &p.recent[slotOf(raw)]
	if slot.raw == string(raw) {
		return slot.val
	}
	e, ok := p.intern[string(raw)]
	if !ok {
		e.raw = string(raw)
		e.val = e.raw
		if esc {
			e.val = p.unescape(raw)
		}
		if len(p.intern) < maxInterned {
			p.intern[e.raw] = e
		}
	}
	*slot = e
	return e.val
}

// slotOf places raw in Parser.recent. The values of a field often differ
// only in their middle or end (198.51.100.7 and 198.51.100.150, ARNs of one
// account), so both ends and the length are mixed in.
func slotOf(raw []byte) int {
	n := len(raw)
	var h uint64
	if n >= 8 {
		h = binary.LittleEndian.Uint64(raw) ^ binary.LittleEndian.Uint64(raw[n-8:])*0x9e3779b97f4a7c15
	} else {
		for _, c := range raw {
			h = h<<8 | uint64(c)
		}
	}
	h = (h ^ uint64(n)) * 0xff51afd7ed558ccd
	return int(h >> (64 - recentBits))
}

// enum reads a string member whose values are an enum; another type (an
// object, a number) or a hidden value reads as absent.
func (p *Parser) enum() string {
	if p.s.Kind() != jsonscan.String {
		p.s.Skip()
		return ""
	}
	if v := p.str(); !IsHidden(v) {
		return v
	}
	return ""
}

// alloc returns raw, unescaped when esc, as a fresh string (for unique
// values such as ids).
func (p *Parser) alloc(raw []byte, esc bool) string {
	if esc {
		return p.unescape(raw)
	}
	return string(raw)
}

func (p *Parser) unescape(raw []byte) string {
	var v string
	if err := json.Unmarshal(p.s.Quoted(raw), &v); err != nil {
		// Malformed escapes stay as written rather than failing the record.
		return string(raw)
	}
	return v
}

// object iterates an object value, or skips a value of any other kind (a
// requestParameters that is null or a string, say) and returns false.
func (p *Parser) object() bool {
	if p.s.Kind() != jsonscan.Object {
		p.s.Skip()
		return false
	}
	return p.s.Open('{')
}

func (p *Parser) userIdentity(u *UserIdentity) {
	s := &p.s
	if !p.object() {
		return
	}
	for s.Next('}') {
		switch string(s.Key()) {
		case "type":
			u.Type = p.str()
		case "accountId":
			u.AccountID = p.str()
		case "invokedBy":
			u.InvokedBy = p.str()
		case "identityProvider":
			u.IdentityProvider = p.str()
		case "sessionContext":
			p.sessionContext(u)
		default:
			s.Skip()
		}
	}
}

func (p *Parser) sessionContext(u *UserIdentity) {
	s := &p.s
	if !p.object() {
		return
	}
	for s.Next('}') {
		switch string(s.Key()) {
		case "sessionIssuer":
			if p.object() {
				for s.Next('}') {
					if string(s.Key()) == "arn" {
						u.SessionIssuerARN = p.str()
					} else {
						s.Skip()
					}
				}
			}
		case "webIdFederationData":
			if p.object() {
				for s.Next('}') {
					switch string(s.Key()) {
					case "federatedProvider":
						u.WebIDProvider = p.str()
					case "attributes":
						p.webIDAttributes(u)
					default:
						s.Skip()
					}
				}
			}
		default:
			s.Skip()
		}
	}
}

func (p *Parser) webIDAttributes(u *UserIdentity) {
	s := &p.s
	if !p.object() {
		return
	}
	for s.Next('}') {
		switch string(s.Key()) {
		case "cognito-identity.amazonaws.com:amr":
			u.AMR = p.str()
		case "cognito-identity.amazonaws.com:aud":
			u.Aud = p.str()
		default:
			s.Skip()
		}
	}
}

func (p *Parser) requestParameters(r *Record) {
	s := &p.s
	if !p.object() {
		return
	}
	for s.Next('}') {
		switch string(s.Key()) {
		case "userPoolId", "UserPoolId":
			p.setUserPool(r, p.str())
		case "identityPoolId", "IdentityPoolId":
			p.setIdentityPool(r, p.str())
		case "roleArn":
			r.RoleARN = p.str()
		case "clientId", "ClientId":
			p.setClient(r, p.str())
		case "authFlow", "AuthFlow":
			r.AuthFlow = p.enum()
		case "logins", "Logins":
			// A map of provider to token, each token hidden; a map
			// hidden whole (a string) names a provider too.
			switch s.Kind() {
			case jsonscan.Object:
				if p.object() {
					for s.Next('}') {
						s.Key()
						s.Skip()
						r.Logins = true
					}
				}
			case jsonscan.String:
				r.Logins = p.str() != ""
			default:
				s.Skip()
			}
		default:
			s.Skip()
		}
	}
}

func (p *Parser) responseElements(r *Record) {
	s := &p.s
	if !p.object() {
		return
	}
	for s.Next('}') {
		switch string(s.Key()) {
		case "identityPoolId", "IdentityPoolId":
			p.setIdentityPool(r, p.str())
		case "audience":
			p.setIdentityPool(r, p.str())
		case "provider":
			r.Provider = p.str()
		case "challengeName", "ChallengeName":
			r.Challenge = p.enum()
		case "userPool":
			if p.object() {
				for s.Next('}') {
					if string(s.Key()) == "id" {
						p.setUserPool(r, p.str())
					} else {
						s.Skip()
					}
				}
			}
		case "userPoolClient":
			// Create/Describe/UpdateUserPoolClient: the response names both
			// the client and its pool (CreateUserPoolClient's request has no
			// client id yet).
			if p.object() {
				for s.Next('}') {
					switch string(s.Key()) {
					case "clientId", "ClientId":
						p.setClient(r, p.str())
					case "userPoolId", "UserPoolId":
						p.setUserPool(r, p.str())
					default:
						s.Skip()
					}
				}
			}
		default:
			s.Skip()
		}
	}
}

func (p *Parser) additionalEventData(r *Record) {
	s := &p.s
	if !p.object() {
		return
	}
	for s.Next('}') {
		switch string(s.Key()) {
		case "userPoolId":
			p.setUserPool(r, p.str())
		case "sub":
			if v := p.str(); !IsHidden(v) {
				r.Sub = v
			}
		case "responseParameters":
			if p.object() {
				for s.Next('}') {
					if string(s.Key()) == "status" {
						raw, _ := s.Scalar()
						r.HTTPStatus = parseStatus(raw)
					} else {
						s.Skip()
					}
				}
			}
		case "requestParameters":
			// Endpoint events log the query or form as arrays of strings:
			// "client_id": ["1example23456789"].
			if p.object() {
				for s.Next('}') {
					if string(s.Key()) == "client_id" {
						p.firstClient(r)
					} else {
						s.Skip()
					}
				}
			}
		default:
			s.Skip()
		}
	}
}

func (p *Parser) resources(r *Record) {
	s := &p.s
	if p.s.Kind() != jsonscan.Array {
		s.Skip()
		return
	}
	s.Open('[')
	for s.Next(']') {
		if !p.object() {
			continue
		}
		for s.Next('}') {
			switch string(s.Key()) {
			case "ARN", "arn":
				p.setFromARN(r, p.str())
			default:
				s.Skip()
			}
		}
	}
}

// setFromARN takes a pool id from a Cognito resource ARN:
// arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL or
// arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/POOL.
func (p *Parser) setFromARN(r *Record, arn string) {
	if i := indexAfter(arn, ":userpool/"); i >= 0 {
		p.setUserPool(r, arn[i:])
	} else if i := indexAfter(arn, ":identitypool/"); i >= 0 {
		p.setIdentityPool(r, arn[i:])
	}
}

func indexAfter(s, sep string) int {
	if i := strings.Index(s, sep); i >= 0 {
		return i + len(sep)
	}
	return -1
}

func (p *Parser) setUserPool(r *Record, v string) {
	if r.UserPoolID == "" && isUserPoolID(v) {
		r.UserPoolID = v
	}
}

// firstClient takes the first string of a client_id array (or a plain
// string, should a record carry one).
func (p *Parser) firstClient(r *Record) {
	s := &p.s
	switch s.Kind() {
	case jsonscan.Array:
		s.Open('[')
		for s.Next(']') {
			if s.Kind() == jsonscan.String {
				p.setClient(r, p.str())
			} else {
				s.Skip()
			}
		}
	case jsonscan.String:
		p.setClient(r, p.str())
	default:
		s.Skip()
	}
}

func (p *Parser) setClient(r *Record, v string) {
	if r.ClientID == "" && IsClientID(v) {
		r.ClientID = v
	}
}

// IsClientID checks an app client id against the API's documented
// constraints ([\w+]+, 1 to 128 characters) and rejects the hidden markers,
// which match that pattern: only a real id may become a metric dimension.
func IsClientID(v string) bool {
	if len(v) == 0 || len(v) > 128 || IsHidden(v) {
		return false
	}
	for j := 0; j < len(v); j++ {
		c := v[j]
		if !(c == '_' || c == '+' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// IsUserPoolID reports whether v has the shape of a user pool id.
func IsUserPoolID(v string) bool { return isUserPoolID(v) }

// UserPoolRegion returns the Region of a user pool, the prefix of its id
// before the underscore ("us-east-1_Ab12" is in us-east-1), "" when pool
// is not a user pool id. A call made in one Region never reaches a pool
// of another, which is what scopes an app client id to its pool.
func UserPoolRegion(pool string) string {
	if !isUserPoolID(pool) {
		return ""
	}
	region, _, _ := strings.Cut(pool, "_")
	return region
}

func (p *Parser) setIdentityPool(r *Record, v string) {
	if r.IdentityPoolID == "" && isIdentityPoolID(v) {
		r.IdentityPoolID = v
	}
}

// isUserPoolID checks the documented shape REGION_ID ([\w-]+_[0-9a-zA-Z]+),
// which keeps hidden markers and free text out of metric dimensions.
func isUserPoolID(v string) bool {
	i := strings.IndexByte(v, '_')
	if i <= 0 || i == len(v)-1 || len(v) > 55 || IsHidden(v) {
		return false
	}
	for j := 0; j < len(v); j++ {
		c := v[j]
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// isIdentityPoolID checks the documented shape REGION:GUID (one colon).
func isIdentityPoolID(v string) bool {
	i := strings.IndexByte(v, ':')
	if i <= 0 || len(v)-i-1 != 36 || len(v) > 55 {
		return false
	}
	for j := 0; j < len(v); j++ {
		c := v[j]
		if !(c == '-' || c == ':' && j == i || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// parseStatus accepts 200, 200.0 and "200".
func parseStatus(raw []byte) int {
	n := 0
	for _, c := range raw {
		if c == '.' {
			break
		}
		if c < '0' || c > '9' || n > 999 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// parseTime parses CloudTrail's eventTime (RFC 3339, normally
// "2006-01-02T15:04:05Z") without allocating on the common form.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) == 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == 'Z' {
		y, ok1 := digits(b[0:4])
		mo, ok2 := digits(b[5:7])
		d, ok3 := digits(b[8:10])
		h, ok4 := digits(b[11:13])
		mi, ok5 := digits(b[14:16])
		sec, ok6 := digits(b[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && h < 24 && mi < 60 && sec < 60 {
			t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
			// time.Date normalises Feb 31 to March; time.Parse rejects it.
			return t, t.Day() == d
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
