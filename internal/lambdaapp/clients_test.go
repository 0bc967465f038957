package lambdaapp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// signInFile is a trail file of failed InitiateAuth calls, n per client,
// the published record's shape (requestParameters.clientId only).
func signInFile(t *testing.T, start time.Time, n int, clients ...string) []byte {
	t.Helper()
	var recs []map[string]any
	for _, c := range clients {
		for i := range n {
			recs = append(recs, map[string]any{
				"eventVersion": "1.10", "eventTime": start.Add(time.Duration(len(recs)) * time.Second).UTC().Format(time.RFC3339),
				"eventSource": "cognito-idp.amazonaws.com", "eventName": "InitiateAuth", "awsRegion": "us-east-1",
				"userIdentity": map[string]any{"type": "Unknown", "principalId": "Anonymous"},
				"errorCode":    "NotAuthorizedException", "errorMessage": "Incorrect username or password.",
				"requestParameters": map[string]any{"authFlow": "USER_PASSWORD_AUTH", "authParameters": record.HiddenValue, "clientId": c},
				"eventID":           fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", len(recs), i),
				"eventType":         "AwsApiCall", "recipientAccountId": "123456789012", "eventCategory": "Management",
			})
		}
	}
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return gz(raw)
}

// TestClientLookup: RESOLVE_CLIENTS against moto_server's cognito-idp, with
// the first ListUserPools and ListUserPoolClients throttled. The failures
// of two pools' clients are published by pool; a warm invocation and a cold
// start (the DynamoDB cache) list nothing again; a client no pool has stays
// under ClientId.
func TestClientLookup(t *testing.T) {
	e, p := newProxiedEnv(t)
	ctx := context.Background()
	idp := cip.NewFromConfig(server.AWSConfig())
	truth := map[string]string{}
	static := map[clientpool.Key]string{}
	var clients []string
	for _, name := range []string{"prod", "staging"} {
		pool, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(pool.UserPool.Id)
		if !record.IsUserPoolID(id) {
			t.Fatalf("moto's pool id %q does not pass the pool id check", id)
		}
		c, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(id), ClientName: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		cid := aws.ToString(c.UserPoolClient.ClientId)
		truth[cid] = id
		static[clientpool.Key{Region: record.UserPoolRegion(id), Client: cid}] = id
		clients = append(clients, cid)
	}
	e.cfg.ResolveClients = true
	e.clients = clientpool.New(&clientpool.Options{Static: static})
	p.setPlan(func(op string, n int) fault {
		if (op == "ListUserPools" || op == "ListUserPoolClients") && n == 1 {
			return throttle
		}
		return pass
	})

	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	keys := []string{
		prefix + "123456789012_CloudTrail_us-east-1_20261121T1005Z_clients1.json.gz",
		prefix + "123456789012_CloudTrail_us-east-1_20261121T1010Z_clients2.json.gz",
		prefix + "123456789012_CloudTrail_us-east-1_20261121T1015Z_clients3.json.gz",
	}
	for i, k := range keys {
		e.put(k, signInFile(t, start.Add(time.Duration(i)*time.Minute), 2+i, clients...))
	}
	invoke := func(h interface {
		Handle(context.Context, json.RawMessage) (any, error)
	}, key string) {
		t.Helper()
		if _, err := h.Handle(ctx, json.RawMessage(s3Event(s3Record(key, e.etag(key), 1)))); err != nil {
			t.Fatal(err)
		}
	}
	warm := e.handler()
	invoke(warm, keys[0])
	if n := p.count("ListUserPools"); n != 1 {
		t.Errorf("%d ListUserPools answered, want 1 listing", n)
	}
	invoke(warm, keys[1])
	invoke(e.handler(), keys[2]) // a cold start: the ledger table remembers
	if n := p.count("ListUserPools"); n != 1 {
		t.Errorf("%d ListUserPools answered after a warm invocation and a cold start, want still 1", n)
	}
	x := e.expect(keys, nil)
	for _, c := range clients {
		k := keyOf(metric.SignInFailures, []metric.Dimension{{Name: metric.DimUserPoolID, Value: truth[c]}})
		if x.sums[k] != 2+3+4 {
			t.Fatalf("expectation %s = %v: the test's own resolution failed", k, x.sums[k])
		}
	}
	e.check(x)

	// A client no pool has: looked up once by the cold-started handler,
	// then counted under ClientId.
	e.clients = nil
	kUnknown := prefix + "123456789012_CloudTrail_us-east-1_20261121T1020Z_clients4.json.gz"
	e.put(kUnknown, signInFile(t, start.Add(5*time.Minute), 3, "madeup123"))
	invoke(e.handler(), kUnknown)
	dims := []metric.Dimension{{Name: metric.DimClientID, Value: "madeup123"}}
	k := keyOf(metric.SignInFailures, dims)
	got := e.read([]seriesKey{k}, expectation{name: map[seriesKey]string{k: metric.SignInFailures}, dims: map[seriesKey][]metric.Dimension{k: dims}})
	if got[k] != 3 {
		t.Errorf("SignInFailures by ClientId = %v, want 3", got[k])
	}
	if n := p.count("ListUserPools"); n != 2 {
		t.Errorf("%d ListUserPools answered, want 2 (one more listing for the never-seen client)", n)
	}
	if strings.Contains(e.logs.String(), "app clients not resolved") {
		t.Errorf("throttling within the SDK's retries was reported as a failed lookup:\n%s", e.logs.String())
	}
}

// TestFailedClientLookupFailsNoFile: ListUserPools throttled beyond the
// SDK's retries. The file is processed, the failures are published under
// ClientId, and the failed lookup is logged.
func TestFailedClientLookupFailsNoFile(t *testing.T) {
	e, p := newProxiedEnv(t)
	e.cfg.ResolveClients = true
	p.setPlan(onEvery("ListUserPools", throttle))
	key := prefix + "123456789012_CloudTrail_us-east-1_20261121T1005Z_throttled.json.gz"
	e.put(key, signInFile(t, time.Now().Add(-time.Hour).Truncate(time.Minute), 3, "someclient"))
	sum, err := e.invoke(s3Event(s3Record(key, e.etag(key), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s := sum.(processor.Summary); s.Processed != 1 || s.Failed != 0 {
		t.Errorf("summary %+v, want the file processed", s)
	}
	if !strings.Contains(e.logs.String(), `"message":"app clients not resolved"`) {
		t.Error("no log line for the failed lookup")
	}
	e.check(e.expect([]string{key}, nil))
}

// TestLearnedPairsSurviveColdStart: a pair one file teaches (a successful
// AdminInitiateAuth names the pool and the client) is kept in the ledger
// table, so that after a cold start, without the lookup, the next file's
// failed InitiateAuth calls, which name the client alone, are published
// by pool (issue 15: a stuffing run's second file landed under ClientId).
func TestLearnedPairsSurviveColdStart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const client, pool = "3example4client5id6", "us-east-1_Ex4mpl3"
	e.clients = clientpool.New(&clientpool.Options{Static: map[clientpool.Key]string{{Region: "us-east-1", Client: client}: pool}})
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	teach := map[string]any{
		"eventVersion": "1.10", "eventTime": start.UTC().Format(time.RFC3339),
		"eventSource": "cognito-idp.amazonaws.com", "eventName": "AdminInitiateAuth", "awsRegion": "us-east-1",
		"userIdentity":      map[string]any{"type": "AssumedRole", "accountId": "123456789012"},
		"requestParameters": map[string]any{"authFlow": "ADMIN_NO_SRP_AUTH", "authParameters": record.HiddenValue, "userPoolId": pool, "clientId": client},
		"eventID":           "00000000-0000-4000-8000-000000000001",
		"eventType":         "AwsApiCall", "recipientAccountId": "123456789012", "eventCategory": "Management",
	}
	raw, err := json.Marshal(map[string]any{"Records": []any{teach}})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{
		prefix + "123456789012_CloudTrail_us-east-1_20261121T1005Z_teach.json.gz",
		prefix + "123456789012_CloudTrail_us-east-1_20261121T1010Z_stuffing.json.gz",
	}
	e.put(keys[0], gz(raw))
	e.put(keys[1], signInFile(t, start.Add(time.Minute), 7, client))
	for _, k := range keys {
		// A handler each: the second is a cold start.
		if _, err := e.handler().Handle(ctx, json.RawMessage(s3Event(s3Record(k, e.etag(k), 1)))); err != nil {
			t.Fatal(err)
		}
	}
	x := e.expect(keys, nil)
	k := keyOf(metric.SignInFailures, []metric.Dimension{{Name: metric.DimUserPoolID, Value: pool}})
	if x.sums[k] != 7 {
		t.Fatalf("expectation %s = %v: the test's own resolution failed", k, x.sums[k])
	}
	e.check(x)
}
