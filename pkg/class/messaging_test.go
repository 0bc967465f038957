package class

import "testing"

// Every operation the sign-up and code-delivery counts name is one the
// tables list (an endpoint of the seed's, or an API call), so a typo
// cannot silently count nothing; and the predicates answer from them.
func TestMessagingOperationsListed(t *testing.T) {
	api := set([]string{"SignUp", "ConfirmSignUp", "AdminConfirmSignUp", "ResendConfirmationCode",
		"ForgotPassword", "GetUserAttributeVerificationCode", "AdminResetUserPassword"})
	for _, l := range []struct {
		name string
		ops  []string
		is   func(string) bool
	}{{"SignUpOperations", SignUpOperations, SignUp}, {"SignUpConfirmationOperations", SignUpConfirmationOperations, SignUpConfirmation}, {"CodeDeliveryOperations", CodeDeliveryOperations, CodeDelivery}} {
		for _, op := range l.ops {
			if !hostedUI[op] && !managedLogin[op] && !api[op] {
				t.Errorf("%s: %q is neither an endpoint operation nor a known API call", l.name, op)
			}
			if !l.is(op) {
				t.Errorf("%s: %q not reported", l.name, op)
			}
		}
		if l.is("InitiateAuth") || l.is("") {
			t.Errorf("%s: reports an operation it does not list", l.name)
		}
	}
}
