// Package ocsf writes findings as OCSF Detection Findings (class 2004,
// schema 1.1.0, the version Amazon Security Lake takes for custom
// sources), one JSON object a line, for Security Lake and SIEMs: a change
// or attack finding with its actor and source address, a posture row with
// the control it fails.
package ocsf

import (
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

// Version is the OCSF schema version written in metadata.version.
const Version = "1.1.0"

// The Detection Finding class and its Create activity
// (https://schema.ocsf.io/1.1.0/classes/detection_finding).
const (
	CategoryFindings = 2
	ClassDetection   = 2004
	ActivityCreate   = 1
	TypeCreate       = ClassDetection*100 + ActivityCreate
	StatusNew        = 1
)

// Severity ids: 3 Medium, 4 High.
func severityID(s string) (int, string) {
	switch strings.ToLower(s) {
	case "high":
		return 4, "High"
	case "medium":
		return 3, "Medium"
	}
	return 0, "Unknown"
}

// Product names the producer in metadata.product.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// DetectionFinding is the subset of the class cognitrail fills.
type DetectionFinding struct {
	ActivityID   int         `json:"activity_id"`
	ActivityName string      `json:"activity_name"`
	CategoryUID  int         `json:"category_uid"`
	CategoryName string      `json:"category_name"`
	ClassUID     int         `json:"class_uid"`
	ClassName    string      `json:"class_name"`
	TypeUID      int         `json:"type_uid"`
	TypeName     string      `json:"type_name"`
	Time         int64       `json:"time"`
	SeverityID   int         `json:"severity_id"`
	Severity     string      `json:"severity"`
	StatusID     int         `json:"status_id"`
	Status       string      `json:"status"`
	Message      string      `json:"message"`
	Metadata     Metadata    `json:"metadata"`
	FindingInfo  FindingInfo `json:"finding_info"`
	Cloud        Cloud       `json:"cloud"`
	Resources    []Resource  `json:"resources,omitempty"`
	Actor        *Actor      `json:"actor,omitempty"`
	SrcEndpoint  *Endpoint   `json:"src_endpoint,omitempty"`
	// Unmapped holds the setting, its value and previous value, and the
	// Security Hub control: the class has no attribute for them.
	Unmapped map[string]string `json:"unmapped,omitempty"`
}

// Metadata is the event's metadata object.
type Metadata struct {
	Version string  `json:"version"`
	Product Product `json:"product"`
}

// FindingInfo is the finding_info object.
type FindingInfo struct {
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	Desc        string   `json:"desc,omitempty"`
	Types       []string `json:"types,omitempty"`
	CreatedTime int64    `json:"created_time,omitempty"`
	Analytic    Analytic `json:"analytic"`
}

// Analytic names the rule that raised the finding.
type Analytic struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"` // 1 Rule
	Type   string `json:"type"`
}

// Cloud is the cloud object.
type Cloud struct {
	Provider string   `json:"provider"`
	Region   string   `json:"region,omitempty"`
	Account  *Account `json:"account,omitempty"`
}

// Account is the cloud account.
type Account struct {
	UID string `json:"uid"`
}

// Resource is one affected resource.
type Resource struct {
	UID    string `json:"uid"`
	Type   string `json:"type"`
	Region string `json:"region,omitempty"`
}

// Actor is who made the call.
type Actor struct {
	User User `json:"user"`
}

// User is the actor's principal.
type User struct {
	UID string `json:"uid"`
}

// Endpoint is the call's source.
type Endpoint struct {
	IP string `json:"ip,omitempty"`
}

func base(name, severity string, at time.Time, p Product) DetectionFinding {
	id, sev := severityID(severity)
	spec, _ := finding.Lookup(name)
	return DetectionFinding{
		ActivityID: ActivityCreate, ActivityName: "Create",
		CategoryUID: CategoryFindings, CategoryName: "Findings",
		ClassUID: ClassDetection, ClassName: "Detection Finding",
		TypeUID: TypeCreate, TypeName: "Detection Finding: Create",
		Time: at.UnixMilli(), SeverityID: id, Severity: sev,
		StatusID: StatusNew, Status: "New",
		Message:  name,
		Metadata: Metadata{Version: Version, Product: p},
		FindingInfo: FindingInfo{Title: name, Desc: spec.Trigger, CreatedTime: at.UnixMilli(),
			Analytic: Analytic{Name: name, TypeID: 1, Type: "Rule"}},
	}
}

// resource names a pool or client by the id the finding has.
func resource(userPool, identityPool, client, region string) []Resource {
	switch {
	case client != "":
		return []Resource{{UID: client, Type: posture.TypeClient, Region: region}}
	case userPool != "":
		return []Resource{{UID: userPool, Type: posture.TypeUserPool, Region: region}}
	case identityPool != "":
		return []Resource{{UID: identityPool, Type: posture.TypeIdentityPool, Region: region}}
	}
	return nil
}

// FromFinding converts a change or attack finding: its uid is the event's
// id and the finding's name, as its notification's.
func FromFinding(f finding.Finding, p Product) DetectionFinding {
	d := base(f.Name, f.Severity.String(), f.Time, p)
	d.FindingInfo.UID = "cognitrail/" + f.EventID + "/" + f.Name
	d.FindingInfo.Types = []string{"Configuration Change"}
	if f.Operation == "" || f.Count > 0 {
		d.FindingInfo.Types = []string{"Sign-in Attack"}
	}
	d.Cloud = Cloud{Provider: "AWS", Region: f.Region}
	if f.Account != "" {
		d.Cloud.Account = &Account{UID: f.Account}
	}
	d.Resources = resource(f.UserPoolID, f.IdentityPoolID, f.ClientID, f.Region)
	if f.Actor != "" {
		d.Actor = &Actor{User: User{UID: f.Actor}}
	}
	if f.SourceIP != "" {
		d.SrcEndpoint = &Endpoint{IP: f.SourceIP}
	}
	if s := finding.FormatSettings(f.Settings); s != "" {
		d.Unmapped = map[string]string{"settings": s}
	}
	return d
}

// FromPosture converts a posture row: its uid is stable for the finding
// and the resource, so a later run's row is the same finding.
func FromPosture(r posture.Row, p Product) DetectionFinding {
	d := base(r.Finding, r.Severity, r.Time, p)
	d.FindingInfo.UID = r.UID()
	d.FindingInfo.Types = []string{"Security Posture"}
	d.Cloud = Cloud{Provider: "AWS", Region: r.Region, Account: &Account{UID: r.Account}}
	d.Resources = []Resource{{UID: r.Resource, Type: r.ResourceType, Region: r.Region}}
	d.Unmapped = map[string]string{"setting": r.Setting, "value": r.Value, "source": r.Source}
	if r.Control != "" {
		d.Unmapped["control"] = r.Control
	}
	return d
}
