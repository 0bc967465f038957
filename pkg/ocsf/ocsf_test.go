package ocsf

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

// required are the attributes OCSF 1.1.0 requires of a Detection Finding:
// the base event's (activity_id, category_uid, class_uid, type_uid, time,
// severity_id, metadata with metadata.version and metadata.product, whose
// vendor_name is required), the Findings category's finding_info with its
// uid and title, and the cloud profile's cloud.provider, which Amazon
// Security Lake requires of custom sources. Sources:
// https://schema.ocsf.io/1.1.0/classes/detection_finding,
// https://schema.ocsf.io/1.1.0/objects/metadata,
// https://schema.ocsf.io/1.1.0/objects/product,
// https://schema.ocsf.io/1.1.0/objects/finding_info,
// https://schema.ocsf.io/1.1.0/objects/cloud.
var required = []string{
	"activity_id", "category_uid", "class_uid", "type_uid", "time", "severity_id",
	"metadata.version", "metadata.product.vendor_name", "metadata.product.name",
	"finding_info.uid", "finding_info.title",
	"cloud.provider",
}

func lookup(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func check(t *testing.T, d DetectionFinding) map[string]any {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range required {
		v, ok := lookup(m, p)
		if !ok || v == "" || v == float64(0) {
			t.Errorf("%s missing or empty in %s", p, b)
		}
	}
	if m["class_uid"] != float64(2004) || m["category_uid"] != float64(2) ||
		m["type_uid"] != m["class_uid"].(float64)*100+m["activity_id"].(float64) {
		t.Errorf("class, category or type: %s", b)
	}
	if strings.Contains(string(b), "HIDDEN_") {
		t.Errorf("a hidden value: %s", b)
	}
	return m
}

// fieldsAre reports each field, named by its dotted path, whose value is
// not the one wanted.
func fieldsAre(t *testing.T, m, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if v, _ := lookup(m, path); v != w {
			t.Errorf("%s = %v, want %v", path, v, w)
		}
	}
}

var product = Product{Name: "cognitrail", VendorName: "cognitrail", Version: "test"}

// TestChangeFinding: the guest access finding of AWS's published
// CreateIdentityPool record, with its actor and source.
func TestChangeFinding(t *testing.T) {
	at := time.Date(2016, 1, 7, 2, 4, 30, 0, time.UTC)
	f := finding.Finding{Time: at, Severity: finding.High, Name: finding.IdentityPoolGuestAccessEnabled,
		Account: "123456789012", Region: "us-east-1", IdentityPoolID: "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE",
		Operation: "CreateIdentityPool", Actor: "arn:aws:iam::123456789012:user/Alice", SourceIP: "127.0.0.1",
		EventID:  "f1d47f93-c708-495b-bff1-cb935a6064b2",
		Settings: []finding.Setting{{Name: "allowUnauthenticatedIdentities", Value: "true"}}}
	m := check(t, FromFinding(f, product))
	fieldsAre(t, m, map[string]any{
		"severity_id":                float64(4),
		"time":                       float64(at.UnixMilli()),
		"finding_info.uid":           "cognitrail/f1d47f93-c708-495b-bff1-cb935a6064b2/identity-pool-guest-access-enabled",
		"actor.user.uid":             "arn:aws:iam::123456789012:user/Alice",
		"src_endpoint.ip":            "127.0.0.1",
		"cloud.account.uid":          "123456789012",
		"unmapped.settings":          "allowUnauthenticatedIdentities=true",
		"finding_info.analytic.name": "identity-pool-guest-access-enabled",
	})
	res := m["resources"].([]any)[0].(map[string]any)
	if res["uid"] != f.IdentityPoolID || res["type"] != posture.TypeIdentityPool {
		t.Errorf("resource %v", res)
	}
}

// TestPostureRow: a row keeps its control and a stable uid, and a medium
// row has severity 3.
func TestPostureRow(t *testing.T) {
	r := posture.Row{Finding: finding.UserPoolWeakPasswordPolicy, Severity: "medium", Control: "Cognito.3",
		Account: "123456789012", Region: "eu-west-1", Resource: "eu-west-1_ABC", ResourceType: posture.TypeUserPool,
		Setting: "policies.passwordPolicy.minimumLength", Value: "6", Source: posture.Source,
		Time: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	m := check(t, FromPosture(r, product))
	fieldsAre(t, m, map[string]any{
		"severity_id":      float64(3),
		"finding_info.uid": "cognitrail/posture/123456789012/eu-west-1/user-pool-weak-password-policy/eu-west-1_ABC",
		"unmapped.control": "Cognito.3",
		"unmapped.value":   "6",
		"cloud.region":     "eu-west-1",
	})
	if _, ok := m["actor"]; ok {
		t.Error("a posture row has no actor")
	}
}
