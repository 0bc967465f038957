package notification

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Shape is the kind of invocation event.
type Shape string

// Event shapes.
const (
	ShapeS3          Shape = "s3"
	ShapeSQS         Shape = "sqs"
	ShapeSNS         Shape = "sns"
	ShapeEventBridge Shape = "eventbridge"
	// ShapeCloudTrail is CloudTrail's own notification message, invoked
	// directly (it normally arrives inside SNS or SQS).
	ShapeCloudTrail Shape = "cloudtrail"
	// ShapeTestEvent is S3's s3:TestEvent, sent when a notification
	// destination is configured.
	ShapeTestEvent Shape = "s3-test-event"
	// ShapeAPICall is EventBridge's "AWS API Call via CloudTrail" event from
	// Amazon Cognito: one CloudTrail record, seconds after the call, instead
	// of a trail file minutes later.
	ShapeAPICall Shape = "api-call"
)

// DetailTypeAPICall is the detail-type of the CloudTrail management events
// EventBridge delivers; their detail is the CloudTrail record.
const DetailTypeAPICall = "AWS API Call via CloudTrail"

// APICallSources are the EventBridge sources of Amazon Cognito's API calls
// (user pools, identity pools) that the handler evaluates.
var APICallSources = []string{"aws.cognito-idp", "aws.cognito-identity"}

// Object is one S3 object an event announces.
type Object struct {
	Bucket string
	// Key is URL-decoded: the object's real key.
	Key       string
	VersionID string
	Sequencer string
	// ETag is without quotes.
	ETag string
	// Size is the object's size in bytes, or -1 when the event does not say.
	Size int64
	// EventTime is when the event says the object was created; zero when it
	// does not say.
	EventTime time.Time
}

// Identity returns what tells this version of the object apart from another
// object with the same key: the version id, else the ETag, else the
// notification's sequencer; "" when the event carries none of them.
//
// The ETag comes before the sequencer because it is a property of the object
// while the sequencer is a property of one notification path: the same object
// announced through S3 notifications and through EventBridge or CloudTrail's
// SNS message then has one identity, and is counted once.
func (o Object) Identity() string {
	switch {
	case o.VersionID != "":
		return "v:" + o.VersionID
	case o.ETag != "":
		return "e:" + o.ETag
	case o.Sequencer != "":
		return "s:" + o.Sequencer
	}
	return ""
}

// Reason says why an object or notification was skipped. The values appear
// in logs.
type Reason string

// Skip reasons.
const (
	ReasonTestEvent     Reason = "test-event"
	ReasonFolder        Reason = "folder"
	ReasonEmpty         Reason = "empty-object"
	ReasonDigest        Reason = "digest-file"
	ReasonInsight       Reason = "insight-file"
	ReasonOtherService  Reason = "not-cloudtrail"
	ReasonNotCreated    Reason = "not-object-created"
	ReasonSubscription  Reason = "sns-subscription"
	ReasonUndecodable   Reason = "undecodable-key"
	ReasonUnknownSource Reason = "unknown-source"
)

// Skip is an object (or a whole notification, with Object zero but for what
// it said) that will not be read.
type Skip struct {
	Object Object
	Reason Reason
}

// Message is what one SQS message carried, or the whole event for the other
// shapes.
type Message struct {
	// ID is the SQS message id, what batchItemFailures reports, or the S3
	// Batch Operations task id; "" for the other shapes.
	ID      string
	Objects []Object
	Skipped []Skip
	// APICalls are the CloudTrail records of "AWS API Call via CloudTrail"
	// events, as JSON.
	APICalls []json.RawMessage
	// Err is set when this SQS message's body could not be understood. It is
	// permanent: the same body fails again.
	Err error
}

// Event is one parsed invocation event.
type Event struct {
	Shape    Shape
	Messages []Message
	// Batch is set for ShapeS3Batch only.
	Batch *BatchJob
}

// ErrUnknownShape is returned for an event that is none of the accepted
// shapes.
var ErrUnknownShape = errors.New("notification: unrecognised event shape")

// maxDepth bounds envelopes inside envelopes (SQS > SNS > S3 is 3).
const maxDepth = 4

// Parse parses one invocation event.
func Parse(raw []byte) (*Event, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("notification: event is not a JSON object: %w", err)
	}
	if isBatch(top) {
		return parseBatch(raw)
	}
	if recs, ok := top["Records"]; ok {
		var records []map[string]json.RawMessage
		if err := json.Unmarshal(recs, &records); err != nil {
			return nil, fmt.Errorf("notification: Records is not an array of objects: %w", err)
		}
		if len(records) > 0 {
			switch {
			case str(records[0], "eventSource") == "aws:sqs":
				return parseSQS(records)
			case str(records[0], "EventSource") == "aws:sns":
				return parseSNS(records)
			}
		}
	}
	var m Message
	shape, err := parseDoc(top, 1, &m)
	if err != nil {
		return nil, err
	}
	return &Event{Shape: shape, Messages: []Message{m}}, nil
}

func parseSQS(records []map[string]json.RawMessage) (*Event, error) {
	ev := &Event{Shape: ShapeSQS}
	for i, r := range records {
		if src := str(r, "eventSource"); src != "aws:sqs" {
			return nil, fmt.Errorf("notification: record %d: eventSource %q in an SQS event", i, src)
		}
		m := Message{ID: str(r, "messageId")}
		if m.ID == "" {
			return nil, fmt.Errorf("notification: SQS record %d has no messageId", i)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(str(r, "body")), &doc); err != nil {
			m.Err = fmt.Errorf("notification: SQS message %s: body is not a JSON object: %w", m.ID, err)
		} else if _, err := parseDoc(doc, 2, &m); err != nil {
			m.Err = fmt.Errorf("notification: SQS message %s: %w", m.ID, err)
		}
		if m.Err != nil {
			m.Objects, m.Skipped = nil, nil
		}
		ev.Messages = append(ev.Messages, m)
	}
	return ev, nil
}

func parseSNS(records []map[string]json.RawMessage) (*Event, error) {
	var m Message
	for i, r := range records {
		var sns map[string]json.RawMessage
		if err := json.Unmarshal(r["Sns"], &sns); err != nil {
			return nil, fmt.Errorf("notification: SNS record %d: no Sns object: %w", i, err)
		}
		if _, err := parseEnvelope(sns, 2, &m); err != nil {
			return nil, fmt.Errorf("notification: SNS record %d: %w", i, err)
		}
	}
	return &Event{Shape: ShapeSNS, Messages: []Message{m}}, nil
}

// parseDoc parses one document that announces objects, at nesting depth.
func parseDoc(doc map[string]json.RawMessage, depth int, m *Message) (Shape, error) {
	if depth > maxDepth {
		return "", errors.New("notification: envelopes nested too deeply")
	}
	switch {
	case doc["Records"] != nil:
		return ShapeS3, parseS3(doc["Records"], m)
	case str(doc, "Event") == "s3:TestEvent":
		m.Skipped = append(m.Skipped, Skip{Object: Object{Bucket: str(doc, "Bucket"), Size: -1}, Reason: ReasonTestEvent})
		return ShapeTestEvent, nil
	case str(doc, "detail-type") == DetailTypeAPICall:
		return ShapeAPICall, parseAPICall(doc, m)
	case doc["detail-type"] != nil:
		return ShapeEventBridge, parseEventBridge(doc, m)
	case doc["s3Bucket"] != nil:
		return ShapeCloudTrail, parseCloudTrail(doc, time.Time{}, m)
	case doc["Type"] != nil && doc["Message"] != nil:
		// An SNS envelope delivered to SQS without raw message delivery.
		return parseEnvelope(doc, depth+1, m)
	}
	return "", ErrUnknownShape
}

// parseEnvelope parses an SNS message (the Sns object of a Lambda SNS event,
// or the envelope SNS delivers to SQS).
func parseEnvelope(sns map[string]json.RawMessage, depth int, m *Message) (Shape, error) {
	switch t := str(sns, "Type"); t {
	case "Notification":
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		m.Skipped = append(m.Skipped, Skip{Object: Object{Size: -1}, Reason: ReasonSubscription})
		return ShapeSNS, nil
	default:
		return "", fmt.Errorf("notification: SNS message of type %q", t)
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal([]byte(str(sns, "Message")), &inner); err != nil {
		return "", fmt.Errorf("notification: SNS Message is not a JSON object: %w", err)
	}
	if inner["s3Bucket"] != nil {
		at, _ := time.Parse(time.RFC3339, str(sns, "Timestamp"))
		return ShapeSNS, parseCloudTrail(inner, at, m)
	}
	if _, err := parseDoc(inner, depth, m); err != nil {
		return "", err
	}
	return ShapeSNS, nil
}

// s3Bucket and s3Object are the bucket and object as S3 describes them in
// its notifications and in its EventBridge events, which spell their fields
// alike but for the version id. (The ETag is "eTag" in one and "etag" in the
// other: JSON keys match a field whatever their case.)
type s3Bucket struct {
	Name string `json:"name"`
}

type s3Object struct {
	Key       string      `json:"key"`
	Size      json.Number `json:"size"`
	ETag      string      `json:"eTag"`
	Sequencer string      `json:"sequencer"`
}

// announced is the Object an S3 notification or event announces, its key
// left for add to decode.
func announced(b s3Bucket, o s3Object, versionID string, at time.Time) Object {
	return Object{
		Bucket:    b.Name,
		VersionID: versionID,
		Sequencer: o.Sequencer,
		ETag:      strings.Trim(o.ETag, `"`),
		Size:      size(o.Size),
		EventTime: at,
	}
}

// s3Record is one record of an S3 event notification.
type s3Record struct {
	EventSource string    `json:"eventSource"`
	EventName   string    `json:"eventName"`
	EventTime   time.Time `json:"eventTime"`
	S3          struct {
		Bucket s3Bucket `json:"bucket"`
		Object struct {
			s3Object
			VersionID string `json:"versionId"`
		} `json:"object"`
	} `json:"s3"`
}

func parseS3(raw json.RawMessage, m *Message) error {
	var recs []s3Record
	if err := json.Unmarshal(raw, &recs); err != nil {
		return fmt.Errorf("notification: S3 records: %w", err)
	}
	for i, r := range recs {
		if r.EventSource != "aws:s3" {
			return fmt.Errorf("notification: record %d: eventSource %q, want aws:s3", i, r.EventSource)
		}
		o := announced(r.S3.Bucket, r.S3.Object.s3Object, r.S3.Object.VersionID, r.EventTime)
		if o.Bucket == "" || r.S3.Object.Key == "" {
			return fmt.Errorf("notification: record %d: no bucket or key", i)
		}
		name := strings.TrimPrefix(r.EventName, "s3:")
		add(m, o, r.S3.Object.Key, true, !strings.HasPrefix(name, "ObjectCreated:"))
	}
	return nil
}

// ebEvent is an EventBridge event from S3.
type ebEvent struct {
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Time       time.Time `json:"time"`
	Detail     struct {
		Bucket s3Bucket `json:"bucket"`
		Object struct {
			s3Object
			VersionID string `json:"version-id"`
		} `json:"object"`
	} `json:"detail"`
}

func parseEventBridge(doc map[string]json.RawMessage, m *Message) error {
	raw, _ := json.Marshal(doc)
	var e ebEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("notification: EventBridge event: %w", err)
	}
	if e.Source != "aws.s3" {
		m.Skipped = append(m.Skipped, Skip{Object: Object{Size: -1, EventTime: e.Time}, Reason: ReasonUnknownSource})
		return nil
	}
	o := announced(e.Detail.Bucket, e.Detail.Object.s3Object, e.Detail.Object.VersionID, e.Time)
	if e.DetailType == "Object Created" && (o.Bucket == "" || e.Detail.Object.Key == "") {
		return errors.New("notification: EventBridge Object Created event without bucket or key")
	}
	// S3 encodes keys in EventBridge events as in its notifications.
	add(m, o, e.Detail.Object.Key, true, e.DetailType != "Object Created")
	return nil
}

// parseAPICall keeps the record of a Cognito API call; a call from another
// service (a rule broader than the template's) is skipped.
func parseAPICall(doc map[string]json.RawMessage, m *Message) error {
	src := str(doc, "source")
	if src != APICallSources[0] && src != APICallSources[1] {
		at, _ := time.Parse(time.RFC3339, str(doc, "time"))
		m.Skipped = append(m.Skipped, Skip{Object: Object{Size: -1, EventTime: at}, Reason: ReasonUnknownSource})
		return nil
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(doc["detail"], &rec); err != nil || rec == nil {
		return errors.New("notification: AWS API Call via CloudTrail event whose detail is not a CloudTrail record")
	}
	if str(rec, "eventID") == "" || str(rec, "eventName") == "" {
		return errors.New("notification: AWS API Call via CloudTrail event without eventID or eventName")
	}
	m.APICalls = append(m.APICalls, doc["detail"])
	return nil
}

func parseCloudTrail(doc map[string]json.RawMessage, at time.Time, m *Message) error {
	bucket := str(doc, "s3Bucket")
	var keys []string
	if err := json.Unmarshal(doc["s3ObjectKey"], &keys); err != nil {
		return fmt.Errorf("notification: CloudTrail s3ObjectKey is not a list of strings: %w", err)
	}
	if bucket == "" {
		return errors.New("notification: CloudTrail notification without s3Bucket")
	}
	for _, k := range keys {
		if k == "" {
			return errors.New("notification: CloudTrail notification with an empty key")
		}
		add(m, Object{Bucket: bucket, Size: -1, EventTime: at}, k, false, false)
	}
	return nil
}

// add decodes the key, applies the skip rules and files the object.
func add(m *Message, o Object, key string, encoded, notCreated bool) {
	o.Key = key
	if encoded {
		k, err := url.QueryUnescape(key)
		if err != nil {
			m.Skipped = append(m.Skipped, Skip{Object: o, Reason: ReasonUndecodable})
			return
		}
		o.Key = k
	}
	if r := skipReason(o, notCreated); r != "" {
		m.Skipped = append(m.Skipped, Skip{Object: o, Reason: r})
		return
	}
	m.Objects = append(m.Objects, o)
}

func skipReason(o Object, notCreated bool) Reason {
	if notCreated {
		return ReasonNotCreated
	}
	return o.SkipReason()
}

// SkipReason applies the rules that decide, from the object alone, that it
// holds no trail records: a folder marker, an empty object (Size 0; -1 is
// unknown), a digest or Insights file or another service's log by its key
// (ParseKey). It returns "" for an object to read. The command-line tool
// applies the same rules to files on disk, so both skip the same objects.
func (o Object) SkipReason() Reason {
	switch {
	case strings.HasSuffix(o.Key, "/"):
		return ReasonFolder
	case o.Size == 0:
		return ReasonEmpty
	}
	switch ParseKey(o.Key).Kind {
	case KindDigest:
		return ReasonDigest
	case KindInsight:
		return ReasonInsight
	case KindOtherService:
		return ReasonOtherService
	}
	return ""
}

func size(n json.Number) int64 {
	if n == "" {
		return -1
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < 0 {
		return -1
	}
	return v
}

// str returns doc[k] as a string, or "" when absent or not a string.
func str(doc map[string]json.RawMessage, k string) string {
	var s string
	if raw, ok := doc[k]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}
