package finding

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cognitrail/cognitrail/internal/jsonscan"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// The types below decode requestParameters and responseElements leniently:
// CloudTrail may replace any value, even an object or a list, by a hidden
// marker, and a field AWS adds or retypes must not make a record undecodable.
// encoding/json matches member names case-insensitively, so the lower-case
// first letter CloudTrail writes and the API reference's upper case both
// decode.

// val is a JSON scalar as text. null, objects, arrays and hidden markers leave
// it unset.
type val struct {
	s  string
	ok bool
}

func (v *val) UnmarshalJSON(b []byte) error {
	*v = val{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case 'n', '{', '[':
		return nil
	case '"':
		s, ok := plain(b)
		if !ok {
			if err := json.Unmarshal(b, &s); err != nil {
				return err
			}
		}
		if record.IsHidden(s) {
			return nil
		}
		v.s, v.ok = s, true
	default:
		v.s, v.ok = string(b), true
	}
	return nil
}

// scalar is a val or a typed one.
type scalar interface{ get() val }

func (v val) get() val { return v }

// str, flag and num are a setting of a documented type: a string (an enum,
// a name, an ARN), a boolean or a number. A scalar of another type is an
// error that makes the record unusable, where it would otherwise become a
// setting's value (a numeric mfaConfiguration reported as "previous 1").
// null, hidden markers (a string wherever they stand), objects and arrays
// read as absent, as for val.
type (
	str  struct{ val }
	flag struct{ val }
	num  struct{ val }
)

func (v *str) UnmarshalJSON(b []byte) error  { return v.typed(b, '"', "string") }
func (v *flag) UnmarshalJSON(b []byte) error { return v.typed(b, 't', "bool") }
func (v *num) UnmarshalJSON(b []byte) error  { return v.typed(b, '0', "float64") }

// typed reads b into v when its kind is want ('"' string, 't' boolean, '0'
// number).
func (v *val) typed(b []byte, want byte, goType string) error {
	if err := v.UnmarshalJSON(b); err != nil || !v.ok {
		return err
	}
	b = bytes.TrimSpace(b)
	got, name := byte('0'), "number"
	switch b[0] {
	case '"':
		got, name = '"', "string"
	case 't', 'f':
		got, name = 't', "bool"
	}
	if got != want {
		*v = val{}
		return &json.UnmarshalTypeError{Value: name, Type: goTypes[goType]}
	}
	return nil
}

var goTypes = map[string]reflect.Type{
	"string": reflect.TypeFor[string](), "bool": reflect.TypeFor[bool](), "float64": reflect.TypeFor[float64](),
}

// list is an array of scalars; hidden and non-scalar items are dropped, and a
// value that is not an array reads as absent.
type list struct {
	items []string
	ok    bool
}

func (l *list) UnmarshalJSON(b []byte) error {
	*l = list{}
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '[' {
		return nil
	}
	var raw []val
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	l.ok = true
	for _, v := range raw {
		if v.ok {
			l.items = append(l.items, v.s)
		}
	}
	return nil
}

// obj decodes T only from a JSON object.
type obj[T any] struct {
	v  T
	ok bool
}

func (o *obj[T]) UnmarshalJSON(b []byte) error {
	*o = obj[T]{}
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
		return nil
	}
	if err := json.Unmarshal(b, &o.v); err != nil {
		return err
	}
	o.ok = true
	return nil
}

// objList is an array of objects; other items are dropped.
type objList[T any] []T

func (l *objList[T]) UnmarshalJSON(b []byte) error {
	*l = nil
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '[' {
		return nil
	}
	var raw []obj[T]
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, o := range raw {
		if o.ok {
			*l = append(*l, o.v)
		}
	}
	return nil
}

// envelope is the part of a candidate record the findings read beyond
// pkg/record: who (the arn, or type and principalId), the user agent, and
// the request and response bodies.
type envelope struct {
	UserAgent    string `json:"userAgent"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
	} `json:"userIdentity"`
	Request  json.RawMessage `json:"requestParameters"`
	Response json.RawMessage `json:"responseElements"`
}

func (e *envelope) actor() string {
	u := e.UserIdentity
	if u.ARN != "" && !record.IsHidden(u.ARN) {
		return u.ARN
	}
	if u.PrincipalID == "" || record.IsHidden(u.PrincipalID) {
		return u.Type
	}
	return u.Type + ":" + u.PrincipalID
}

// params is the union of the request members the catalog reads, from
// CreateIdentityPool/UpdateIdentityPool/SetIdentityPoolRoles (cognito-identity)
// and CreateUserPool/UpdateUserPool/SetUserPoolMfaConfig/
// CreateUserPoolClient/UpdateUserPoolClient/... (cognito-idp). One struct
// keeps the decoder one function for the fuzz target; absent members stay
// unset.
type params struct {
	// identity pools
	AllowUnauthenticatedIdentities flag                `json:"allowUnauthenticatedIdentities"`
	AllowClassicFlow               flag                `json:"allowClassicFlow"`
	SupportedLoginProviders        obj[map[string]val] `json:"supportedLoginProviders"`
	CognitoIdentityProviders       objList[struct {
		ProviderName str `json:"providerName"`
		ClientID     str `json:"clientId"`
	}] `json:"cognitoIdentityProviders"`
	OpenIDConnectProviderARNs list                            `json:"openIdConnectProviderARNs"`
	SAMLProviderARNs          list                            `json:"samlProviderARNs"`
	DeveloperProviderName     str                             `json:"developerProviderName"`
	Roles                     obj[map[string]val]             `json:"roles"`
	RoleMappings              obj[map[string]json.RawMessage] `json:"roleMappings"`

	// user pools
	MFAConfiguration   str `json:"mfaConfiguration"`
	DeletionProtection str `json:"deletionProtection"`
	UserPoolAddOns     obj[struct {
		AdvancedSecurityMode str `json:"advancedSecurityMode"`
	}] `json:"userPoolAddOns"`
	AdminCreateUserConfig obj[struct {
		AllowAdminCreateUserOnly flag `json:"allowAdminCreateUserOnly"`
	}] `json:"adminCreateUserConfig"`
	Policies obj[struct {
		PasswordPolicy obj[struct {
			MinimumLength num `json:"minimumLength"`
		}] `json:"passwordPolicy"`
	}] `json:"policies"`
	LambdaConfig obj[map[string]json.RawMessage] `json:"lambdaConfig"`

	// app clients
	ClientID          str  `json:"clientId"`
	ExplicitAuthFlows list `json:"explicitAuthFlows"`
	AllowedOAuthFlows list `json:"allowedOAuthFlows"`
	CallbackURLs      list `json:"callbackURLs"`
	LogoutURLs        list `json:"logoutURLs"`
	// Both default to the safe value when a create leaves them out: a new
	// client revokes tokens and hides user existence (ENABLED) unless told.
	EnableTokenRevocation      flag `json:"enableTokenRevocation"`
	PreventUserExistenceErrors str  `json:"preventUserExistenceErrors"`
	// wafv2 DisassociateWebACL
	ResourceARN str `json:"resourceArn"`

	// SetRiskConfiguration (threat protection's responses)
	CompromisedCredentials obj[struct {
		Actions obj[riskAction] `json:"actions"`
	}] `json:"compromisedCredentialsRiskConfiguration"`
	AccountTakeover obj[struct {
		Actions obj[struct {
			High   obj[riskAction] `json:"highAction"`
			Medium obj[riskAction] `json:"mediumAction"`
		}] `json:"actions"`
	}] `json:"accountTakeoverRiskConfiguration"`
	RiskException obj[struct {
		SkippedIPRangeList list `json:"skippedIPRangeList"`
	}] `json:"riskExceptionConfiguration"`

	// How long tokens and the sign-in session last, each in its unit
	// (tokenValidityUnits; authSessionValidity is in minutes).
	RefreshTokenValidity num `json:"refreshTokenValidity"`
	AccessTokenValidity  num `json:"accessTokenValidity"`
	IDTokenValidity      num `json:"idTokenValidity"`
	AuthSessionValidity  num `json:"authSessionValidity"`
	TokenValidityUnits   obj[struct {
		RefreshToken str `json:"refreshToken"`
		AccessToken  str `json:"accessToken"`
		IDToken      str `json:"idToken"`
	}] `json:"tokenValidityUnits"`

	// identity providers, domains, log delivery, admin actions
	ProviderName       str `json:"providerName"`
	ProviderType       str `json:"providerType"`
	Domain             str `json:"domain"`
	CustomDomainConfig obj[struct {
		CertificateARN str `json:"certificateArn"`
	}] `json:"customDomainConfig"`
	LogConfigurations objList[struct {
		LogLevel    str `json:"logLevel"`
		EventSource str `json:"eventSource"`
		CloudWatch  obj[struct {
			LogGroupARN str `json:"logGroupArn"`
		}] `json:"cloudWatchLogsConfiguration"`
		S3 obj[struct {
			BucketARN str `json:"bucketArn"`
		}] `json:"s3Configuration"`
		Firehose obj[struct {
			StreamARN str `json:"streamArn"`
		}] `json:"firehoseConfiguration"`
	}] `json:"logConfigurations"`
	Permanent flag `json:"permanent"`
	GroupName str  `json:"groupName"`
	// CreateGroup / UpdateGroup, CreateUserImportJob
	RoleARN               str `json:"roleArn"`
	CloudWatchLogsRoleARN str `json:"cloudWatchLogsRoleArn"`
	// AdminLinkProviderForUser (sourceUser), AdminDisableProviderForUser
	// (user): the provider, never the user's value in it.
	SourceUser obj[providerUser] `json:"sourceUser"`
	User       obj[providerUser] `json:"user"`
	// AdminUpdateUserAttributes: the names only, never the values.
	UserAttributes objList[struct {
		Name str `json:"name"`
	}] `json:"userAttributes"`
	SMSMfa   obj[mfaSettings] `json:"smsMfaSettings"`
	TOTPMfa  obj[mfaSettings] `json:"softwareTokenMfaSettings"`
	EmailMfa obj[mfaSettings] `json:"emailMfaSettings"`

	// responseElements of CreateUserPoolClient
	UserPoolClient obj[struct {
		ClientID str `json:"clientId"`
	}] `json:"userPoolClient"`
}

type providerUser struct {
	ProviderName str `json:"providerName"`
}

type mfaSettings struct {
	Enabled      flag `json:"enabled"`
	PreferredMfa flag `json:"preferredMfa"`
}

// members cuts the four members the envelope needs out of a record with
// the project's scanner, so encoding/json reads only them, not the whole
// record (its validation pass alone would cost more than the scan).
func members(raw []byte) (userAgent, userIdentity, request, response []byte, ok bool) {
	var s jsonscan.Scanner
	s.Reset(raw)
	if s.Kind() != jsonscan.Object || !s.Open('{') {
		return nil, nil, nil, nil, false
	}
	for s.Next('}') {
		k := s.Key()
		s.SkipWS()
		start := s.Pos
		s.Skip()
		if s.Err() != nil {
			break
		}
		switch string(k) {
		case "userAgent":
			userAgent = raw[start:s.Pos]
		case "userIdentity":
			userIdentity = raw[start:s.Pos]
		case "requestParameters":
			request = raw[start:s.Pos]
		case "responseElements":
			response = raw[start:s.Pos]
		}
	}
	return userAgent, userIdentity, request, response, s.Err() == nil
}

// decoded is what decode reads of a candidate record.
type decoded struct {
	env       envelope
	req, resp params
}

// decode reads a candidate record's envelope, request and response into
// d, reset first. The Engine keeps one for its configuration calls: a
// params is 1.5 KB, and a decode that returned three by value copied and
// allocated them once for every call.
func (d *decoded) decode(raw []byte) (err error) {
	*d = decoded{}
	env := &d.env
	ua, ui, rq, rs, ok := members(raw)
	if !ok {
		// Let encoding/json say what is wrong.
		if err = json.Unmarshal(raw, env); err == nil {
			err = errors.New("finding: record not scannable")
		}
		return err
	}
	if len(ua) > 0 {
		env.UserAgent = jsonString(ua)
	}
	if isObject(ui) {
		if err = json.Unmarshal(ui, &env.UserIdentity); err != nil {
			return err
		}
	}
	env.Request, env.Response = rq, rs
	if isObject(env.Request) {
		if err = json.Unmarshal(env.Request, &d.req); err != nil {
			return err
		}
	}
	if isObject(env.Response) {
		if err = json.Unmarshal(env.Response, &d.resp); err != nil {
			return err
		}
	}
	return nil
}

// jsonString reads b as encoding/json reads a JSON value into a string:
// "" for a value that is not a string.
func jsonString(b []byte) string {
	if v, ok := plain(b); ok {
		return v
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return ""
	}
	return v
}

// plain returns the text of the string token b when it needs no
// unquoting: no escape, valid UTF-8 (encoding/json puts U+FFFD for bad
// bytes) and no control character (which it refuses). A second
// json.Unmarshal of such a token would only check it again.
func plain(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c < 0x20 || c == '\\' || c == '"' {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// triggerARN reads one lambdaConfig member: a function ARN, or for the
// sender and pre token generation config objects their lambdaArn (and
// version, which changes what the trigger receives).
func triggerARN(raw json.RawMessage) string {
	var v val
	if err := json.Unmarshal(raw, &v); err == nil && v.ok {
		return v.s
	}
	var o obj[struct {
		LambdaARN     val `json:"lambdaArn"`
		LambdaVersion val `json:"lambdaVersion"`
	}]
	if err := json.Unmarshal(raw, &o); err != nil || !o.ok || !o.v.LambdaARN.ok {
		return ""
	}
	if o.v.LambdaVersion.ok {
		return o.v.LambdaARN.s + " (" + o.v.LambdaVersion.s + ")"
	}
	return o.v.LambdaARN.s
}

// Triggers are the LambdaConfigType members, lower-case first as CloudTrail
// writes them; lambdaConfig is compared member by member.
var Triggers = []string{
	"preSignUp", "customMessage", "postConfirmation", "preAuthentication",
	"postAuthentication", "defineAuthChallenge", "createAuthChallenge",
	"verifyAuthChallengeResponse", "preTokenGeneration", "preTokenGenerationConfig",
	"userMigration", "customSMSSender", "customEmailSender", "kMSKeyID",
}

// triggers maps each present trigger (name folded to the Triggers spelling)
// to its function.
func triggers(m map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(m))
	for k, raw := range m {
		i := slices.IndexFunc(Triggers, func(t string) bool { return strings.EqualFold(t, k) })
		if i < 0 {
			// A trigger AWS adds later still counts, under its own name.
			k = lowerFirst(k)
		} else {
			k = Triggers[i]
		}
		if v := triggerARN(raw); v != "" {
			out[k] = v
		}
	}
	return out
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// riskAction is what threat protection does on a detected risk.
type riskAction struct {
	EventAction str  `json:"eventAction"`
	Notify      flag `json:"notify"`
}

// validity is an amount of a token validity unit (seconds, minutes, hours,
// days: TokenValidityUnitsType).
type validity struct {
	n    int64
	unit string
}

var validityUnits = map[string]time.Duration{
	"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour,
}

func (v validity) duration() time.Duration { return time.Duration(v.n) * validityUnits[v.unit] }

// parseValidity reads a validity member in unit (defUnit when the request
// names none). A value that is not a whole number of a known unit, or is
// out of range, reads as absent.
func parseValidity(n, unit val, defUnit string) (time.Duration, bool) {
	if !n.ok {
		return 0, false
	}
	u := defUnit
	if unit.ok {
		u = strings.ToLower(unit.s)
	}
	per, ok := validityUnits[u]
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.s, 10, 64)
	if err != nil || i < 0 || i > int64(100*365*24*time.Hour/per) {
		return 0, false
	}
	return time.Duration(i) * per, true
}

// formatValidity writes a validity in its largest whole unit ("30d",
// "90m"), the form kept in the State: a unit changed without the length
// changing is no change.
func formatValidity(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		per    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}} {
		if d%u.per == 0 && d != 0 {
			return strconv.FormatInt(int64(d/u.per), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// parseFormatted reads formatValidity's form back.
func parseFormatted(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	per := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[s[len(s)-1]]
	i, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if per == 0 || err != nil || i < 0 {
		return 0, false
	}
	return time.Duration(i) * per, true
}
