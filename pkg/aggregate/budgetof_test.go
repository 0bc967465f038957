package aggregate

import (
	"testing"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// TestBudgetOf: which budget each value draws on. Operations on a
// pkg/class table and documented error codes spend none; a role call's
// operation and undocumented error code spend the role calls' own, with
// the category in either dimension slot; other values their dimension's
// (issue 14 item 7: anyone with guest credentials chooses a role call's
// values).
func TestBudgetOf(t *testing.T) {
	role, api := class.IdentityPoolRoleCall.String(), class.UserPoolAPI.String()
	events := func(cat string) seriesDef {
		return seriesDef{name: metric.Events, d1: metric.DimCategory, v1: cat, d2: metric.DimOperation}
	}
	errs := func(cat string) seriesDef {
		return seriesDef{name: metric.Errors, d1: metric.DimCategory, v1: cat, d2: metric.DimErrorCode}
	}
	// The category second: the budget must not depend on the slot.
	swapped := seriesDef{name: metric.Events, d1: metric.DimOperation, d2: metric.DimCategory, v2: role}
	swappedAPI := seriesDef{name: metric.Events, d1: metric.DimOperation, d2: metric.DimCategory, v2: api}
	for _, tc := range []struct {
		name       string
		d          seriesDef
		dim, value string
		want       string
	}{
		{"listed operation", events(api), metric.DimOperation, "InitiateAuth", noBudget},
		{"unlisted operation", events(api), metric.DimOperation, "MadeUpOperation", metric.DimOperation},
		{"role call operation", events(role), metric.DimOperation, "s3:GetObject", RoleCallBudget + metric.DimOperation},
		{"role call operation, category second", swapped, metric.DimOperation, "s3:GetObject", RoleCallBudget + metric.DimOperation},
		{"listed name as a role call", swapped, metric.DimOperation, "InitiateAuth", RoleCallBudget + metric.DimOperation},
		{"unlisted operation, category second", swappedAPI, metric.DimOperation, "MadeUpOperation", metric.DimOperation},
		{"documented error code", errs(api), metric.DimErrorCode, "NotAuthorizedException", noBudget},
		{"documented error code of a role call", errs(role), metric.DimErrorCode, "NotAuthorizedException", noBudget},
		{"HTTP error", errs(api), metric.DimErrorCode, httpErrorCode, noBudget},
		{"HTTP error of a role call", errs(role), metric.DimErrorCode, httpErrorCode, noBudget},
		{"undocumented error code", errs(api), metric.DimErrorCode, "MadeUpException", metric.DimErrorCode},
		{"undocumented error code of a role call", errs(role), metric.DimErrorCode, "MadeUpException", RoleCallBudget + metric.DimErrorCode},
		{"a pool", seriesDef{name: metric.SignInFailures, d1: metric.DimUserPoolID}, metric.DimUserPoolID, "us-east-1_A", metric.DimUserPoolID},
		{"not budgeted", events(role), metric.DimCategory, role, noBudget},
	} {
		if got := budgetOf(tc.d, tc.dim, tc.value); got != tc.want {
			t.Errorf("%s: budgetOf(%+v, %s, %s) = %q, want %q", tc.name, tc.d, tc.dim, tc.value, got, tc.want)
		}
	}
}
