package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
)

func TestSettingsRoundTripAndExpiry(t *testing.T) {
	now := time.Now()
	_, db, table := newLedger(t, nil)
	s := NewSettings(db, Options{Table: table, Retention: time.Hour, Now: func() time.Time { return now }})
	st := s
	if h, err := st.Get(context.Background(), "123/identitypool/x/allowClassicFlow"); err != nil || h != nil {
		t.Fatalf("empty table: %+v, %v", h, err)
	}
	at := time.Date(2026, 11, 22, 4, 20, 0, 123456789, time.UTC)
	// "" is a value (a trigger seen absent), not "unknown".
	want := map[string][]finding.Entry{
		"123/identitypool/x/allowClassicFlow":   {{Time: at, EventID: "e1", Value: "true"}},
		"123/userpool/y/lambdaConfig.PreSignUp": {{Time: at, EventID: "e1", Value: ""}},
	}
	if err := st.Put(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		if h, err := st.Get(context.Background(), k); err != nil || !slices.EqualFunc(h, w, sameEntry) {
			t.Fatalf("%s: %+v, %v; want %+v", k, h, err, w)
		}
	}
	// Items are prefixed, so they never collide with object or client
	// items, and name their newest value for a reader of the table.
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("setting#123/identitypool/x/allowClassicFlow")})
	if err != nil || out.Item == nil || strAttr(out.Item, "value") != "true" {
		t.Fatalf("no setting# item with value true: %v %v", out, err)
	}
	// Past its TTL but not yet deleted by DynamoDB: unknown again.
	now = now.Add(2 * time.Hour)
	if h, err := st.Get(context.Background(), "123/identitypool/x/allowClassicFlow"); err != nil || h != nil {
		t.Fatalf("expired item: %+v, %v", h, err)
	}
	// and written anew over the expired one.
	later := finding.Entry{Time: at.Add(time.Hour), EventID: "e2", Value: "false"}
	if err := st.Put(context.Background(), map[string][]finding.Entry{"123/identitypool/x/allowClassicFlow": {later}}); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Get(context.Background(), "123/identitypool/x/allowClassicFlow"); err != nil || len(h) != 1 || !sameEntry(h[0], later) {
		t.Fatalf("written over an expired item: %+v, %v", h, err)
	}
}

// sameEntry compares entries, their times as instants.
func sameEntry(a, b finding.Entry) bool {
	return a.Time.Equal(b.Time) && a.EventID == b.EventID && a.Value == b.Value
}

// TestSettingWrittenBeforeHistories: an item with a value and no history
// (written before histories were kept) is a known value older than any
// record: a restatement is quiet, and the first write keeps both.
func TestSettingWrittenBeforeHistories(t *testing.T) {
	ctx := context.Background()
	_, db, table := newLedger(t, nil)
	k := "123456789012/identitypool/us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE/allowUnauthenticatedIdentities"
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: key(SettingPrefix + k),
		UpdateExpression:          aws.String("SET #v = :v, #exp = :exp"),
		ExpressionAttributeNames:  map[string]string{"#v": "value", "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("true"), ":exp": num(time.Now().Add(time.Hour).Unix())},
	}); err != nil {
		t.Fatal(err)
	}
	st := NewSettings(db, Options{Table: table})
	if got := judgeFile(t, st, guestAccess(t, "00000000-0000-4000-8000-000000000001", "04:20", true)); len(got) != 0 {
		t.Fatalf("restated over an old item: %+v, want none", got)
	}
	if h, err := st.Get(context.Background(), k); err != nil || len(h) != 2 || !h[0].Time.IsZero() || h[1].Value != "true" {
		t.Fatalf("history %+v, %v: want the old value first, then the record's", h, err)
	}
}

// guestAccess is an UpdateIdentityPool record, in the shape of AWS's
// published example, that restates guest access at hh:mm on 2026-11-22.
func guestAccess(t testing.TB, eventID, hhmm string, on bool) []byte {
	t.Helper()
	return guestAccessIn(t, "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE", eventID, hhmm, on)
}

func guestAccessIn(t testing.TB, pool, eventID, hhmm string, on bool) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"eventVersion": "1.08",
		"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDACKCEVSQ6C2EXAMPLE",
			"arn": "arn:aws:iam::123456789012:user/Alice", "accountId": "123456789012"},
		"eventTime": "2026-11-22T" + hhmm + ":00Z", "eventSource": "cognito-identity.amazonaws.com",
		"eventName": "UpdateIdentityPool", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
		"userAgent":         "aws-cli/2.1.4 Python/3.8.5 Linux/4.14.203 exec-env/CloudShell",
		"requestParameters": map[string]any{"identityPoolId": pool, "allowUnauthenticatedIdentities": on},
		"requestID":         "15cc73a1-0780-460c-91e8-e12ef034e116", "eventID": eventID,
		"readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
		"eventCategory": "Management", "recipientAccountId": "123456789012",
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// judgeFile evaluates raws as one trail file with a fresh engine (each file
// may be processed by another execution environment) and commits it.
func judgeFile(t testing.TB, st finding.State, raws ...[]byte) []finding.Finding {
	t.Helper()
	e := finding.New(&finding.Options{State: st})
	e.StartFile()
	p := record.NewParser()
	var out []finding.Finding
	for _, raw := range raws {
		var r record.Record
		if _, err := p.Parse(raw, &r); err != nil {
			t.Fatal(err)
		}
		c := class.Classify(&r)
		out = append(out, e.Observe(context.Background(), &r, &c, raw)...)
	}
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOutOfOrderFilesAgainstTheTable is issue 14's case through the table:
// guest access off (F0), off at 04:25 (F2), on at 04:20 (F1, processed
// late), on again at 04:50 (F3, a re-enable after the 04:25 disable). Both
// enables are raised; by processing order F3 was judged against F1's late
// "true" and stayed quiet.
func TestOutOfOrderFilesAgainstTheTable(t *testing.T) {
	_, db, table := newLedger(t, nil)
	st := NewSettings(db, Options{Table: table})
	for _, step := range []struct {
		name string
		raw  []byte
		want int
	}{
		{"F0", guestAccess(t, "00000000-0000-4000-8000-000000000000", "04:00", false), 0},
		{"F2", guestAccess(t, "00000000-0000-4000-8000-000000000002", "04:25", false), 0},
		{"F1", guestAccess(t, "00000000-0000-4000-8000-000000000001", "04:20", true), 1},
		{"F3", guestAccess(t, "00000000-0000-4000-8000-000000000003", "04:50", true), 1},
	} {
		got := judgeFile(t, st, step.raw)
		if len(got) != step.want {
			t.Fatalf("%s: %d findings %+v, want %d", step.name, len(got), got, step.want)
		}
		for _, f := range got {
			if f.Name != finding.IdentityPoolGuestAccessEnabled || f.Settings[0].Previous != "false" {
				t.Errorf("%s: %+v, want %s with previous false", step.name, f, finding.IdentityPoolGuestAccessEnabled)
			}
		}
	}
}

// lostAnswerDB applies every UpdateItem of a setting item twice, returning
// the second answer: what the caller sees when DynamoDB applied a write,
// the answer was lost on the way back and the SDK sent it again.
type lostAnswerDB struct {
	API
	updates atomic.Int32
}

func (d *lostAnswerDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.updates.Add(2)
	return ledgertable.Twice(ctx, d.API.UpdateItem, in, o...)
}

// TestSettingWriteSurvivesItsLostAnswer: the SDK's retry of an applied
// write fails its condition (the version moved); the write reads the item
// again, finds its entries and is done, without an error and without
// writing again.
func TestSettingWriteSurvivesItsLostAnswer(t *testing.T) {
	_, db, table := newLedger(t, nil)
	lost := &lostAnswerDB{API: db}
	st := NewSettings(lost, Options{Table: table})
	k := "123/identitypool/x/allowUnauthenticatedIdentities"
	at := time.Date(2026, 11, 22, 4, 20, 0, 0, time.UTC)
	// A new item (condition attribute_not_exists), then an existing one
	// (condition on the version).
	for i, e := range []finding.Entry{{Time: at, EventID: "e1", Value: "true"}, {Time: at.Add(time.Minute), EventID: "e2", Value: "false"}} {
		if err := st.Put(context.Background(), map[string][]finding.Entry{k: {e}}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if n := lost.updates.Load(); n != 4 {
		t.Errorf("%d UpdateItem requests, want 4 (each write once and its replay)", n)
	}
	h, version, err := NewSettings(db, Options{Table: table}).read(context.Background(), k)
	if err != nil || len(h) != 2 || h[0].EventID != "e1" || h[1].EventID != "e2" || version != 2 {
		t.Fatalf("history %+v version %d, %v; want e1, e2 at version 2", h, version, err)
	}
}

// interleavedDB runs between, once, ahead of the first UpdateItem: another
// writer that writes the item after this one read it.
type interleavedDB struct {
	API
	between func()
	once    sync.Once
	updates int
}

func (d *interleavedDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.once.Do(d.between)
	d.updates++
	return d.API.UpdateItem(ctx, in, o...)
}

// TestConcurrentSettingWritersMerge: a writer whose item changed between
// its read and its write fails its condition, reads again and merges into
// the other writer's history: neither entry is lost and the newest value is
// the newest record's whichever writer came last.
func TestConcurrentSettingWritersMerge(t *testing.T) {
	at := time.Date(2026, 11, 22, 4, 20, 0, 0, time.UTC)
	older := finding.Entry{Time: at, EventID: "older", Value: "true"}
	newer := finding.Entry{Time: at.Add(5 * time.Minute), EventID: "newer", Value: "false"}
	for _, tc := range []struct {
		name          string
		first, second finding.Entry
	}{{"older record writes last", newer, older}, {"newer record writes last", older, newer}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			_, db, table := newLedger(t, nil)
			k := "123/identitypool/x/allowUnauthenticatedIdentities"
			other := NewSettings(db, Options{Table: table})
			// Both writers start from an existing item.
			base := finding.Entry{Time: at.Add(-time.Hour), EventID: "base", Value: "false"}
			if err := other.Put(context.Background(), map[string][]finding.Entry{k: {base}}); err != nil {
				t.Fatal(err)
			}
			d := &interleavedDB{API: db, between: func() {
				if err := other.Put(context.Background(), map[string][]finding.Entry{k: {tc.first}}); err != nil {
					t.Error(err)
				}
			}}
			if err := NewSettings(d, Options{Table: table}).Put(ctx, map[string][]finding.Entry{k: {tc.second}}); err != nil {
				t.Fatal(err)
			}
			if d.updates != 2 {
				t.Errorf("%d UpdateItem requests, want 2 (one failed condition, one merged write)", d.updates)
			}
			h, err := other.Get(context.Background(), k)
			if err != nil || !slices.EqualFunc(h, []finding.Entry{base, older, newer}, sameEntry) {
				t.Fatalf("history %+v, %v; want base, older, newer", h, err)
			}
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(SettingPrefix + k), ConsistentRead: aws.Bool(true)})
			if err != nil || strAttr(out.Item, "value") != "false" {
				t.Fatalf("value %q, %v; want the newer record's false", strAttr(out.Item, "value"), err)
			}
		})
	}
}

// TestManySettingWritersAtOnce: four execution environments merge five
// entries each into one setting at once (requests serialised for moto, see
// ledgertable.Serial; the conditions are moto's to evaluate): the history is the
// newest HistoryEntries of the twenty, whatever the interleaving. Each
// writer writes once, so each fails its condition at most three times.
func TestManySettingWritersAtOnce(t *testing.T) {
	_, db, table := newLedger(t, nil)
	s := NewSettings(ledgertable.NewSerial(db), Options{Table: table})
	k := "123/identitypool/x/allowUnauthenticatedIdentities"
	at := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	var all []finding.Entry
	var wg sync.WaitGroup
	for w := range 4 {
		var mine []finding.Entry
		for i := range 5 {
			// Interleaved times: writer w has minutes w, w+4, w+8, ...
			mine = append(mine, finding.Entry{Time: at.Add(time.Duration(w+4*i) * time.Minute), EventID: fmt.Sprintf("w%d-%d", w, i), Value: fmt.Sprint((w + i) % 2)})
		}
		all = append(all, mine...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Put(context.Background(), map[string][]finding.Entry{k: mine}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want, _ := finding.Merge(nil, all)
	if h, err := s.Get(context.Background(), k); err != nil || !slices.EqualFunc(h, want, sameEntry) {
		t.Fatalf("history %+v, %v; want %+v", h, err, want)
	}
}

// TestAnyOrderTableMatchesMemory: four records of one setting, in all 24
// orders, each file judged by a fresh engine over the table: the findings
// of every file and the final history are those of the same order over a
// MemoryState (whose order-independence package finding's tests prove).
func TestAnyOrderTableMatchesMemory(t *testing.T) {
	_, db, table := newLedger(t, nil)
	settings := NewSettings(db, Options{Table: table})
	type rec struct {
		id, hhmm string
		on       bool
	}
	recs := []rec{
		{"00000000-0000-4000-8000-000000000000", "04:00", false},
		{"00000000-0000-4000-8000-000000000001", "04:20", true},
		{"00000000-0000-4000-8000-000000000002", "04:20", false}, // a tie, ordered by eventID
		{"00000000-0000-4000-8000-000000000003", "04:50", true},
	}
	orders := 0
	var permute func(order []int, rest []int)
	permute = func(order, rest []int) {
		if len(rest) > 0 {
			for i := range rest {
				permute(append(slices.Clone(order), rest[i]), slices.Delete(slices.Clone(rest), i, i+1))
			}
			return
		}
		orders++
		pool := fmt.Sprintf("us-east-1:00000000-0000-4000-8000-%012d", orders)
		memory := finding.NewMemoryState()
		for _, i := range order {
			r := recs[i]
			raw := guestAccessIn(t, pool, r.id, r.hhmm, r.on)
			got, want := judgeFile(t, settings, raw), judgeFile(t, memory, raw)
			if !slices.EqualFunc(got, want, func(a, b finding.Finding) bool {
				return a.EventID == b.EventID && a.Name == b.Name && slices.Equal(a.Settings, b.Settings)
			}) {
				t.Fatalf("order %v, record %d: table %+v, memory %+v", order, i, got, want)
			}
		}
		k := "123456789012/identitypool/" + pool + "/allowUnauthenticatedIdentities"
		got, err := settings.Get(context.Background(), k)
		want, _ := memory.Get(context.Background(), k)
		if err != nil || !slices.EqualFunc(got, want, sameEntry) {
			t.Fatalf("order %v: table history %+v, %v; memory %+v", order, got, err, want)
		}
	}
	permute(nil, []int{0, 1, 2, 3})
	if orders != 24 {
		t.Fatalf("%d orders", orders)
	}
}
