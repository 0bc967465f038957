package scan_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

func trailOf(recs ...string) string { return `{"Records":[` + strings.Join(recs, ",") + `]}` }

func signIn(client string) string { return signInIn("us-east-1", client) }

// signInIn is a failed InitiateAuth made in region.
func signInIn(region, client string) string {
	return fmt.Sprintf(`{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","eventType":"AwsApiCall","awsRegion":%q,"errorCode":"NotAuthorizedException","requestParameters":{"authFlow":"USER_PASSWORD_AUTH","authParameters":"HIDDEN_DUE_TO_SECURITY_REASONS","clientId":%q}}`, region, client)
}

const updateClient = `{"eventTime":"2026-11-20T09:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"UpdateUserPoolClient","eventType":"AwsApiCall","awsRegion":"us-east-1","requestParameters":{"userPoolId":"us-east-1_Pool2","clientId":"mobile"},"responseElements":{"userPoolClient":{"userPoolId":"us-east-1_Pool2","clientId":"mobile"}}}`

func byDim(ds []metric.Datum, name, dim, value string) float64 {
	var s float64
	for _, d := range ds {
		if d.Name == name && len(d.Dimensions) == 1 && d.Dimensions[0] == (metric.Dimension{Name: dim, Value: value}) {
			s += d.Sum()
		}
	}
	return s
}

// TestClientLearnedInAnotherFile: the Lambda aggregates each file alone;
// the resolver shared by its invocations carries the pair UpdateUserPoolClient
// gave in one file to the sign-ins of the next.
func TestClientLearnedInAnotherFile(t *testing.T) {
	r := clientpool.New(nil)
	ctx := context.Background()
	first := aggregate.New(nil)
	if _, err := scan.File(ctx, strings.NewReader(trailOf(updateClient)), first, &scan.Options{Clients: r}); err != nil {
		t.Fatal(err)
	}
	second := aggregate.New(nil)
	res, err := scan.File(ctx, strings.NewReader(trailOf(signIn("mobile"), signIn("mobile"), signIn("other"), signIn("HIDDEN_DUE_TO_SECURITY_REASONS"), signInIn("eu-west-1", "mobile"))), second, &scan.Options{Clients: r})
	if err != nil {
		t.Fatal(err)
	}
	// mobile in eu-west-1 is another client than us-east-1_Pool2's.
	if want := (aggregate.ClientStats{FromResolver: 1, Unresolved: 2}); res.Clients != want || res.ClientsErr != nil {
		t.Errorf("clients %+v %v, want %+v", res.Clients, res.ClientsErr, want)
	}
	ds := slices.Collect(second.All())
	if got := byDim(ds, metric.SignInFailures, metric.DimUserPoolID, "us-east-1_Pool2"); got != 2 {
		t.Errorf("by pool %v, want 2", got)
	}
	if got := byDim(ds, metric.SignInFailures, metric.DimClientID, "mobile"); got != 1 {
		t.Errorf("mobile in eu-west-1: %v, want 1 under ClientId", got)
	}
	if got := byDim(ds, metric.SignInFailures, metric.DimClientID, "other"); got != 1 {
		t.Errorf("never-seen client %v, want 1 under ClientId", got)
	}
	// The hidden client id counts in the total, under no client or pool.
	if got := byDim(ds, metric.SignInFailures, metric.DimClientID, "HIDDEN_DUE_TO_SECURITY_REASONS"); got != 0 {
		t.Errorf("hidden client id became a dimension")
	}
	var total float64
	for _, d := range ds {
		if d.Name == metric.SignInFailures && len(d.Dimensions) == 0 {
			total += d.Sum()
		}
	}
	if total != 5 {
		t.Errorf("total %v, want 5", total)
	}
}
