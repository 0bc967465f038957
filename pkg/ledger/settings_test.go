package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestSettingsRoundTripAndExpiry(t *testing.T) {
	now := time.Now()
	_, db, table := newLedger(t, nil)
	s := NewSettings(db, Options{Table: table, Retention: time.Hour, Now: func() time.Time { return now }})
	st := s.WithContext(context.Background())
	if _, known, err := st.Get("123/identitypool/x/allowClassicFlow"); err != nil || known {
		t.Fatalf("empty table: known %v, %v", known, err)
	}
	// "" is a value (a trigger seen absent), not "unknown".
	if err := st.Put(map[string]string{"123/identitypool/x/allowClassicFlow": "true", "123/userpool/y/lambdaConfig.PreSignUp": ""}); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"123/identitypool/x/allowClassicFlow": "true", "123/userpool/y/lambdaConfig.PreSignUp": ""} {
		if v, known, err := st.Get(k); err != nil || !known || v != want {
			t.Fatalf("%s: %q known %v, %v; want %q", k, v, known, err, want)
		}
	}
	// Items are prefixed, so they never collide with object or client items.
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("setting#123/identitypool/x/allowClassicFlow")})
	if err != nil || out.Item == nil {
		t.Fatalf("no setting# item: %v", err)
	}
	// Past its TTL but not yet deleted by DynamoDB: unknown again.
	now = now.Add(2 * time.Hour)
	if _, known, err := st.Get("123/identitypool/x/allowClassicFlow"); err != nil || known {
		t.Fatalf("expired item: known %v, %v", known, err)
	}
}
