package processor

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// recordingSink keeps every datum published, in batches of batch datums
// (0: CloudWatch's 1000); from request failAt on (1-based, 0: never) it
// fails transiently.
type recordingSink struct {
	mu        sync.Mutex
	batch     int
	requests  int
	failAt    int
	published []metric.Datum
}

func (s *recordingSink) Batches(d iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	n := s.batch
	if n == 0 {
		n = 1000
	}
	return sink.Batches(d, n, 1<<30, func(*metric.Datum) int { return 1 })
}

func (s *recordingSink) Publish(_ context.Context, b []metric.Datum) (sink.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.failAt > 0 && s.requests >= s.failAt {
		return sink.Stats{}, errors.New("throttled")
	}
	s.published = append(s.published, b...)
	return sink.Stats{Requests: 1, Sent: len(b)}, nil
}

// sum adds up the datums published of metric name, in the order published.
func (s *recordingSink) sum(name string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n float64
	for _, d := range s.published {
		if d.Name == name {
			n += d.Sum()
		}
	}
	return n
}

// switchResolver answers one pool for every app client, which a test
// changes between attempts (a warm environment that learned a pair, a
// lookup that answers now).
type switchResolver struct{ pool string }

func (*switchResolver) Learn(string, string) {}
func (r *switchResolver) Resolve(_ context.Context, region, _ string) (string, error) {
	if r.pool == "" {
		return "", nil
	}
	return region + "_" + r.pool, nil
}

// ageEdgeFile is a trail file of failed sign-ins naming only an app client,
// one a minute for two hours around the age cut of now, and a few recent
// ones: a cut judged 30 minutes later leaves 30 minutes more out, and a
// client resolved otherwise moves its counts to another pool.
func ageEdgeFile(now time.Time) []byte {
	var recs []string
	start := now.Add(-sink.DefaultMaxAge - time.Hour)
	for i := range 120 {
		recs = append(recs, fmt.Sprintf(`{"eventTime":%q,"eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","eventType":"AwsApiCall","awsRegion":"us-east-1","errorCode":"NotAuthorizedException","requestParameters":{"authFlow":"USER_PASSWORD_AUTH","clientId":"mobile%d"}}`,
			start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i%3))
	}
	for i := range 5 {
		recs = append(recs, fmt.Sprintf(`{"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventType":"AwsApiCall","awsRegion":"us-east-1"}`,
			now.Add(-time.Duration(i)*time.Hour).Format(time.RFC3339)))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

func datumString(d metric.Datum) string {
	return fmt.Sprintf("%s %v %s %v %v", d.Name, d.Dimensions, d.Timestamp.Format(time.RFC3339), d.Values, d.Counts)
}

// TestResumeIsDeterministic: an attempt publishes k requests and fails;
// the retry comes 30 minutes later (the age cut judged then would leave
// more out) and the app client resolver answers otherwise (a warm
// environment, a lookup). The retry publishes exactly the datums the first
// attempt had left: together they are, datum for datum and in order, what
// one uninterrupted first attempt publishes. Direct and buffered delivery;
// and an item of the old form (resumeOldFormItem), on the same server.
func TestResumeIsDeterministic(t *testing.T) {
	srv := motoserver.StartT(t)
	db := dynamodb.NewFromConfig(srv.AWSConfig())
	t.Run("old-form item", func(t *testing.T) { resumeOldFormItem(t, db) })
	now := time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)
	body := ageEdgeFile(now)
	const key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/edge.json"
	s3f := bucketS3{bodies: map[string][]byte{key: body}}
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffered=%v", buffered), func(t *testing.T) {
			ctx := context.Background()
			// What one uninterrupted first attempt publishes.
			ref := &recordingSink{batch: 7}
			res := &switchResolver{pool: "First"}
			clock := now
			opts := &Options{Buffered: buffered, Now: func() time.Time { return clock }, Clients: res,
				Logger: slog.New(slog.DiscardHandler)}
			if _, err := New(s3f, ref, nil, opts).Handle(ctx, sqsOf(key)); err != nil {
				t.Fatal(err)
			}
			want := ref.published
			if len(want) < 30 {
				t.Fatalf("%d datums: too few to resume inside", len(want))
			}

			table := fmt.Sprintf("resume-%v", buffered)
			if err := ledgertable.Create(ctx, db, table); err != nil {
				t.Fatal(err)
			}
			l := ledger.New(db, ledger.Options{Table: table, Now: func() time.Time { return clock }})
			const k = 3
			sk := &recordingSink{batch: 7, failAt: k + 1}
			resp, err := New(s3f, sk, l, opts).Handle(ctx, sqsOf(key))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(resp); !strings.Contains(got, "m-0") {
				t.Fatalf("first attempt: %s, want the message retried", got)
			}
			if len(sk.published) != 7*k {
				t.Fatalf("first attempt published %d datums, want %d", len(sk.published), 7*k)
			}
			// 30 minutes later, the resolver answering otherwise.
			clock, res.pool, sk.failAt = now.Add(30*time.Minute), "Second", 0
			resp, err = New(s3f, sk, l, opts).Handle(ctx, sqsOf(key))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(resp); strings.Contains(got, "m-0") {
				t.Fatalf("retry: %s", got)
			}
			got := sk.published
			seen := map[string]int{}
			for _, d := range got {
				seen[datumString(d)]++
			}
			for s, n := range seen {
				if n > 1 {
					t.Errorf("published %d times: %s", n, s)
				}
			}
			missing := 0
			for _, d := range want {
				if seen[datumString(d)] == 0 {
					missing++
					if missing <= 3 {
						t.Errorf("never published: %s", datumString(d))
					}
				}
			}
			if missing > 0 || !slices.EqualFunc(got, want, func(a, b metric.Datum) bool { return datumString(a) == datumString(b) }) {
				t.Fatalf("%d datums published over both attempts, want %d; %d never published", len(got), len(want), missing)
			}
		})
	}
}

// resumeOldFormItem: an item written by a version that recorded only a
// batch count (no key) is resumed by that count, as that version would
// have resumed it: its published batches are not sent again.
func resumeOldFormItem(t *testing.T, db *dynamodb.Client) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)
	const key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/old.json"
	s3f := bucketS3{bodies: map[string][]byte{key: ageEdgeFile(now)}}
	opts := &Options{Now: func() time.Time { return now }, Clients: &switchResolver{pool: "First"},
		Logger: slog.New(slog.DiscardHandler)}
	ref := &recordingSink{batch: 7}
	if _, err := New(s3f, ref, nil, opts).Handle(ctx, sqsOf(key)); err != nil {
		t.Fatal(err)
	}
	if err := ledgertable.Create(ctx, db, "resume-old"); err != nil {
		t.Fatal(err)
	}
	l := ledger.New(db, ledger.Options{Table: "resume-old", Now: func() time.Time { return now }})
	// What the earlier version left: 2 batches published, then released.
	c, err := l.Claim(ctx, ledger.ObjectID("trail", key, "e:"+key), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Progress(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	sk := &recordingSink{batch: 7}
	if _, err := New(s3f, sk, l, opts).Handle(ctx, sqsOf(key)); err != nil {
		t.Fatal(err)
	}
	want := ref.published[2*7:]
	if !slices.EqualFunc(sk.published, want, func(a, b metric.Datum) bool { return datumString(a) == datumString(b) }) {
		t.Fatalf("published %d datums, want the %d after the first 2 batches", len(sk.published), len(want))
	}
}

// TestPairsBounded: client pairs past maxPairsBytes are not recorded (a
// retry asks the Resolver again) rather than making an item DynamoDB
// refuses.
func TestPairsBounded(t *testing.T) {
	var pairs []clientPair
	for i := range 2000 {
		pairs = append(pairs, clientPair{Region: "us-east-1", Client: fmt.Sprintf("%026d", i), Pool: "us-east-1_AbCdEfGhI"})
	}
	if got, ok := fit(pairs[:10]); !ok || len(got) != 10 {
		t.Fatalf("10 pairs: %d, %v", len(got), ok)
	}
	if got, ok := fit(pairs); ok || got != nil {
		t.Fatalf("2000 pairs: %d recorded", len(got))
	}
}
