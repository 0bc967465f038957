package notification

import "strings"

// Kind says what a key's layout makes of an object.
type Kind int

// Kinds of keys.
const (
	// KindUnknown: no AWSLogs/ layout; the object is read, and the trail
	// reader decides what it is.
	KindUnknown Kind = iota
	// KindLog: AWSLogs/[o-org/]account/CloudTrail/region/...: a log file.
	KindLog
	// KindDigest: a CloudTrail-Digest file (integrity validation).
	KindDigest
	// KindInsight: a CloudTrail-Insight file.
	KindInsight
	// KindOtherService: AWSLogs/account/<another service>/..., such as load
	// balancer or VPC flow logs sharing the bucket.
	KindOtherService
)

// KeyInfo is what a trail key's layout says.
type KeyInfo struct {
	Kind Kind
	// Org is the organization id of an organization trail (o-...).
	Org     string
	Account string
	Region  string
}

// ParseKey reads the CloudTrail layout of an S3 key:
//
//	[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
//	[prefix/]AWSLogs/<o-org>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
//
// and the CloudTrail-Digest and CloudTrail-Insight variants.
func ParseKey(key string) KeyInfo {
	var info KeyInfo
	// Digest and Insight files are recognised anywhere in the key: their
	// directory name is what CloudTrail guarantees, the rest may vary.
	switch {
	case strings.Contains(key, "/CloudTrail-Digest/"):
		info.Kind = KindDigest
	case strings.Contains(key, "/CloudTrail-Insight/"):
		info.Kind = KindInsight
	}
	i := strings.Index(key, "AWSLogs/")
	if i < 0 || (i > 0 && key[i-1] != '/') {
		return info
	}
	parts := strings.Split(key[i+len("AWSLogs/"):], "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "o-") {
		info.Org = parts[0]
		parts = parts[1:]
	}
	if len(parts) < 3 || !isAccount(parts[0]) {
		return info
	}
	info.Account = parts[0]
	info.Region = parts[2]
	if info.Kind != KindUnknown {
		return info
	}
	switch parts[1] {
	case "CloudTrail":
		info.Kind = KindLog
	case "CloudTrail-Digest":
		info.Kind = KindDigest
	case "CloudTrail-Insight":
		info.Kind = KindInsight
	default:
		info.Kind = KindOtherService
	}
	return info
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
