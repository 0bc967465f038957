package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// NoticePrefix starts the key of a sent finding's item:
// "finding#<eventID>#<finding name>".
const NoticePrefix = "finding#"

const (
	noticeSent   = "sent"
	noticeFailed = "failed"
)

// NoticeAPI is the part of the DynamoDB client Notices uses.
type NoticeAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Notices records which findings were sent (notify.Dedup), one item per
// event and finding, kept Retention (zero: DefaultRetention) after it is
// written: past the 5 to 15 minutes between an EventBridge event and the
// trail file holding the same record, and past any duplicate delivery.
type Notices struct {
	api       NoticeAPI
	table     string
	retention time.Duration
	now       func() time.Time
}

// NewNotices returns the notices in opts.Table.
func NewNotices(api NoticeAPI, opts Options) *Notices {
	n := &Notices{api: api, table: opts.Table, retention: opts.Retention, now: opts.Now}
	if n.retention <= 0 {
		n.retention = DefaultRetention
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n
}

func noticeKey(eventID, name string) string { return NoticePrefix + eventID + "#" + name }

// First writes the finding's item unless one exists that is not marked
// failed: exactly one of several concurrent callers gets true.
func (n *Notices) First(ctx context.Context, eventID, name string) (bool, error) {
	k := noticeKey(eventID, name)
	_, err := n.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(n.table),
		Item: map[string]types.AttributeValue{
			AttrKey: str(k), attrStatus: str(noticeSent), attrUpdated: num(n.now().UnixMilli()),
			AttrExpiresAt: num(n.now().Add(n.retention).Unix()),
		},
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #st = :failed"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrKey, "#st": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":failed": str(noticeFailed)},
	})
	if err != nil {
		if conditionFailed(err) {
			return false, nil
		}
		return false, fmt.Errorf("ledger: record notice %s: %w", k, err)
	}
	return true, nil
}

// Failed marks the finding's item failed, so that a later First succeeds.
func (n *Notices) Failed(ctx context.Context, eventID, name string) error {
	k := noticeKey(eventID, name)
	_, err := n.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(n.table),
		Key:                       key(k),
		UpdateExpression:          aws.String("SET #st = :failed, #upd = :now"),
		ExpressionAttributeNames:  map[string]string{"#st": attrStatus, "#upd": attrUpdated},
		ExpressionAttributeValues: map[string]types.AttributeValue{":failed": str(noticeFailed), ":now": num(n.now().UnixMilli())},
	})
	if err != nil {
		return fmt.Errorf("ledger: mark notice %s failed: %w", k, err)
	}
	return nil
}
