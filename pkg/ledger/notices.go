package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// NoticePrefix starts the key of a sent finding's item (package item):
// "finding#<eventID>#<finding name>".
const NoticePrefix = item.NoticePrefix

const (
	noticeSending = "sending"
	noticeSent    = "sent"
	noticeFailed  = "failed"
)

// NoticeAPI is the part of the DynamoDB client Notices uses.
type NoticeAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Notices records which findings were sent (alert.Dedup), one item per
// event and finding, kept Retention (zero: DefaultRetention) after it is
// written: past the 5 to 15 minutes between an EventBridge event and the
// trail file holding the same record, and past any duplicate delivery.
//
// An item goes through two states. First writes it "sending", with the
// sender's token and a lease (the sender's own: its claim on the object);
// Sent marks it "sent" once the message is out, Failed "failed" when
// publishing failed. A later First takes an item that failed, or whose
// sender died while sending (its lease expired): a sender that dies
// between First and publishing loses nothing. Only a sender that dies
// after SNS accepted the message and before Sent, and whose lease then
// expires, has its message sent twice.
type Notices struct {
	api       NoticeAPI
	table     string
	retention time.Duration
	now       func() time.Time
	l         *Ledger // for tokens
}

// NewNotices returns the notices in opts.Table.
func NewNotices(api NoticeAPI, opts Options) *Notices {
	n := &Notices{api: api, table: opts.Table, retention: opts.Retention, now: opts.Now, l: New(nil, opts)}
	if n.retention <= 0 {
		n.retention = DefaultRetention
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n
}

func noticeKey(eventID, name string) string { return NoticePrefix + eventID + "#" + name }

// First takes the finding's item for sending until the lease until: true
// with the token to pass to Sent or Failed when the caller is to send it,
// false when it was sent, ErrNoticeHeld while another sender holds it. Exactly one of several
// concurrent callers gets true. A condition failure that finds the item
// holding this call's own token is the SDK's retry of a write whose answer
// was lost: the item is this caller's.
func (n *Notices) First(ctx context.Context, eventID, name string, until time.Time) (string, bool, error) {
	k := noticeKey(eventID, name)
	tok, err := n.l.token()
	if err != nil {
		return "", false, err
	}
	now := n.now()
	_, err = n.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(n.table),
		Item: map[string]types.AttributeValue{
			AttrKey: str(k), attrStatus: str(noticeSending), attrOwner: str(tok),
			attrLease: num(until.UnixMilli()), attrUpdated: num(now.UnixMilli()),
			AttrExpiresAt: num(now.Add(n.retention).Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #st = :failed OR (#st = :sending AND #lease < :now)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrKey, "#st": attrStatus, "#lease": attrLease},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": str(noticeFailed), ":sending": str(noticeSending), ":now": num(now.UnixMilli()),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if old, ok := conditionFailedItem(err); ok {
			switch {
			case strAttr(old, attrOwner) == tok:
				return tok, true, nil
			case strAttr(old, attrStatus) == noticeSending:
				// Another sender holds it: it may still fail. The caller
				// must not count it sent, but try again after the lease.
				return tok, false, fmt.Errorf("%w: %s until %s", ErrNoticeHeld, k,
					time.UnixMilli(int64(intAttr(old, attrLease))).UTC().Format(time.RFC3339))
			}
			return tok, false, nil
		}
		// The write may have applied (its every answer lost): the token
		// lets the caller release it.
		return tok, false, fmt.Errorf("ledger: record notice %s: %w", k, err)
	}
	return tok, true, nil
}

// ErrNoticeHeld says another sender is sending the finding: transient,
// since that sender may fail; try again once its lease is over.
var ErrNoticeHeld = errors.New("ledger: finding being sent by another invocation")

// Sent marks the finding's item sent by the holder of tok.
func (n *Notices) Sent(ctx context.Context, eventID, name, tok string) error {
	return n.mark(ctx, eventID, name, tok, noticeSent)
}

// Failed marks the finding's item failed, so that a later First succeeds.
func (n *Notices) Failed(ctx context.Context, eventID, name, tok string) error {
	return n.mark(ctx, eventID, name, tok, noticeFailed)
}

// mark is conditional on the token: a sender whose lease expired and was
// taken over must not undo the new sender's state. Applied twice (a lost
// answer), it meets its own write, which the condition accepts.
func (n *Notices) mark(ctx context.Context, eventID, name, tok, status string) error {
	k := noticeKey(eventID, name)
	_, err := n.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(n.table),
		Key:                       key(k),
		UpdateExpression:          aws.String("SET #st = :st, #upd = :now REMOVE #lease"),
		ConditionExpression:       aws.String("#owner = :tok"),
		ExpressionAttributeNames:  map[string]string{"#st": attrStatus, "#upd": attrUpdated, "#lease": attrLease, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":st": str(status), ":now": num(n.now().UnixMilli()), ":tok": str(tok)},
	})
	if err != nil {
		if conditionFailed(err) {
			return fmt.Errorf("ledger: mark notice %s %s: taken over by another sender", k, status)
		}
		return fmt.Errorf("ledger: mark notice %s %s: %w", k, status, err)
	}
	return nil
}

// conditionFailedItem is the item a ConditionalCheckFailedException
// returned (ReturnValuesOnConditionCheckFailure ALL_OLD): ok when err is
// one, with a nil item when there was none.
func conditionFailedItem(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}
