package class

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The user pool list is the error types of the SDK module in go.mod (the
// API reference's Errors sections, generated): a new SDK version that adds
// one fails here until the list has it.
func TestUserPoolErrorCodesAsTheSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "types", "errors.go"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`ErrorCode\(\) string \{\s*if e == nil \|\| e\.ErrorCodeOverride == nil \{\s*return "(\w+)"`)
	var sdk []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		sdk = append(sdk, m[1])
	}
	if len(sdk) < 40 {
		t.Fatalf("only %d error codes read from the SDK: its layout changed", len(sdk))
	}
	slices.Sort(sdk)
	got := slices.Sorted(slices.Values(UserPoolErrorCodes))
	if !slices.Equal(got, sdk) {
		t.Errorf("UserPoolErrorCodes\n%v\nthe SDK's\n%v", got, sdk)
	}
}

func TestDocumentedErrorCode(t *testing.T) {
	for _, c := range []string{"NotAuthorizedException", "UserNotFoundException", "ExternalServiceException",
		"LambdaThrottledException", "ThrottlingException"} {
		if !DocumentedErrorCode(c) {
			t.Errorf("%s not documented", c)
		}
	}
	for _, c := range []string{"", "AccessDenied", "Client.UnauthorizedOperation", "notauthorizedexception"} {
		if DocumentedErrorCode(c) {
			t.Errorf("%q documented", c)
		}
	}
}

func TestListedOperation(t *testing.T) {
	for _, op := range []string{"InitiateAuth", "UpdateUserPool", "Login_POST", "SetCognitoEvents", "GetCredentialsForIdentity"} {
		if !ListedOperation(op) {
			t.Errorf("%s not listed", op)
		}
	}
	for _, op := range []string{"s3:GetObject", "DescribeUserPool", ""} {
		if ListedOperation(op) {
			t.Errorf("%q listed", op)
		}
	}
}
