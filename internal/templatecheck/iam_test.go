package templatecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
)

// iamPrefix maps an aws-sdk-go-v2 service package to its IAM action prefix.
var iamPrefix = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/s3":                      "s3",
	"github.com/aws/aws-sdk-go-v2/service/dynamodb":                "dynamodb",
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch":              "cloudwatch",
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider": "cognito-idp",
	"github.com/aws/aws-sdk-go-v2/service/sqs":                     "sqs",
	"github.com/aws/aws-sdk-go-v2/service/sns":                     "sns",
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity":         "cognito-identity",
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail":              "cloudtrail",
	"github.com/aws/aws-sdk-go-v2/service/securityhub":             "securityhub",
}

// implicitActions are granted for calls the function's code does not make
// itself, each with the reason.
var implicitActions = map[string]string{
	"logs:CreateLogStream": "the Lambda service writes the function's logs with its role",
	"logs:PutLogEvents":    "the Lambda service writes the function's logs with its role",
	"sqs:SendMessage":      "the Lambda service sends failed asynchronous events to the dead-letter queue with the function's role",
	"s3:GetObjectVersion":  "GetObject with a VersionId (a versioned bucket's notified version) needs it",
	"s3:ListBucket":        "S3 answers GetObject of a missing key with 404 (counted in FilesFailed) rather than 403 (retried into the DLQ) only with it; the code never lists",
	"kms:Decrypt":          "S3 decrypts SSE-KMS trail files for GetObject with the caller's permission",
	// Delivery=buffered: Lambda's event source mapping is a service using
	// the function's role; TestBufferedQueuePollGrant holds these to the
	// buffer queue and to buffered mode.
	"sqs:ReceiveMessage":     "the Lambda service's event source mapping polls the buffer queue with the function's role",
	"sqs:DeleteMessage":      "the Lambda service's event source mapping deletes the batch items the function did not report as failures",
	"sqs:GetQueueAttributes": "the Lambda service checks the buffer queue when it creates and runs the event source mapping",
}

// sdkCalls returns the SDK operations ("dynamodb:GetItem") that the
// function binary's own packages build an input for.
func sdkCalls(t *testing.T) map[string][]string {
	t.Helper()
	return sdkCallsOf(t, "../../functions/processor")
}

// sdkCallsOf returns the SDK operations that pkg and the packages it
// imports build an input for.
func sdkCallsOf(t *testing.T, pkg string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{.Dir}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	calls := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(path, "github.com/cognitrail/cognitrail/") {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			alias := map[string]string{}
			for _, imp := range file.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if prefix, ok := iamPrefix[p]; ok {
					name := p[strings.LastIndex(p, "/")+1:]
					if imp.Name != nil {
						name = imp.Name.Name
					}
					alias[name] = prefix
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				cl, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				sel, ok := cl.Type.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				if prefix, ok := alias[pkg.Name]; ok && strings.HasSuffix(sel.Sel.Name, "Input") {
					op := prefix + ":" + strings.TrimSuffix(sel.Sel.Name, "Input")
					calls[op] = append(calls[op], fset.Position(cl.Pos()).String())
				}
				return true
			})
		}
	}
	return calls
}

// grantedActions returns the actions the function's role allows.
func grantedActions(st *Stack) []string {
	var acts []string
	for s := range roleStatements(st.Resources["ProcessorRole"]) {
		acts = append(acts, oneOrMore(s["Action"])...)
	}
	slices.Sort(acts)
	return slices.Compact(acts)
}

// TestFunctionRoleGrantsOnlyWhatTheCodeCalls: in every scenario, each action
// of the function's role is an SDK call the function's packages make (found
// in the source), or a listed implicit one; DynamoDB actions are exactly the
// ones the configuration uses (issue 7: PutItem and DeleteItem were granted
// while the code called neither).
func TestFunctionRoleGrantsOnlyWhatTheCodeCalls(t *testing.T) {
	calls := sdkCalls(t)
	if len(calls["s3:GetObject"]) == 0 || len(calls["dynamodb:UpdateItem"]) == 0 {
		t.Fatalf("the source scan found no GetObject or UpdateItem call: %v", slices.Sorted(maps.Keys(calls)))
	}
	tpl := load(t)
	reported := map[string]bool{}
	for _, s := range scenarios(t, tpl) {
		st := evaluated(t, tpl, s)
		vars := asMap(asMap(st.Resources[st.FunctionID]["Environment"])["Variables"])
		cfg, err := lambdaapp.ConfigFromEnv(func(k string) string { return scalarString(vars[k]) })
		if err != nil {
			t.Fatal(err)
		}
		var dynamo []string
		for _, a := range grantedActions(st) {
			if strings.HasPrefix(a, "dynamodb:") {
				dynamo = append(dynamo, a)
			}
			if _, ok := implicitActions[a]; ok || len(calls[a]) > 0 || reported[a] {
				continue
			}
			reported[a] = true
			t.Errorf("%v: the role grants %s, which the function's code never calls", s, a)
		}
		var want []string
		if cfg.IdempotencyTable != "" {
			want = append(want, "dynamodb:GetItem", "dynamodb:UpdateItem") // pkg/ledger
			if cfg.ResolveClients || cfg.FindingsTopicARN != "" {
				// pkg/clientpool.DynamoStore; ledger.Notices' conditional put
				want = append(want, "dynamodb:PutItem")
			}
		}
		slices.Sort(want)
		if !slices.Equal(dynamo, want) && !reported[strings.Join(dynamo, ",")] {
			reported[strings.Join(dynamo, ",")] = true
			t.Errorf("%v: DynamoDB actions %v, the configuration uses %v", s, dynamo, want)
		}
	}
}

// cliOnly are the packages with SDK calls that only the command line makes,
// each with the reason the function's role must not grant them. The
// function must not import them: its role is derived from what it imports.
var cliOnly = map[string]string{
	"github.com/cognitrail/cognitrail/pkg/ledger/ledgeradmin": "dynamodb:DeleteItem, for `cognitrail ledger reset`: an operator's action, never the function's",
}

// The CLI-only calls stay out of the function: its packages do not import
// them, so the source scan above does not see their calls, and the scan
// does see them where they are (it would catch an import).
func TestFunctionDoesNotImportCLIOnlyCalls(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../functions/processor").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for pkg, why := range cliOnly {
		if slices.Contains(deps, pkg) {
			t.Errorf("the function imports %s (%s)", pkg, why)
		}
	}
	if calls := sdkCalls(t); len(calls["dynamodb:DeleteItem"]) > 0 {
		t.Errorf("the function's packages call DeleteItem: %v", calls["dynamodb:DeleteItem"])
	}
	if calls := sdkCallsOf(t, "../../pkg/ledger/ledgeradmin"); len(calls["dynamodb:DeleteItem"]) == 0 {
		t.Error("the source scan does not see ledgeradmin's DeleteItem: it would miss it if the function imported it")
	}
}

// postureServices are the IAM prefixes of the posture run's calls.
var postureServices = []string{"cognito-idp:", "cognito-identity:", "cloudtrail:"}

// TestPostureGrants: with PostureSchedule the role grants exactly the
// calls pkg/posture makes (found in its source), each on this account's
// and Region's pools where the action has a resource type; without it,
// none of them but the app client lookup's (ResolveClients). The schedule
// rule exists, invokes the function and dead-letters, only then.
func TestPostureGrants(t *testing.T) {
	calls := sdkCallsOf(t, "../../pkg/posture")
	var want []string
	for op := range calls {
		for _, p := range postureServices {
			if strings.HasPrefix(op, p) {
				want = append(want, op)
			}
		}
	}
	slices.Sort(want)
	if len(want) < 10 || !slices.Contains(want, "cloudtrail:GetEventSelectors") || !slices.Contains(want, "cognito-identity:GetIdentityPoolRoles") {
		t.Fatalf("the source scan of pkg/posture found %v", want)
	}
	lookup := []string{"cognito-idp:ListUserPoolClients", "cognito-idp:ListUserPools"}
	tpl := load(t)
	on := 0
	for _, s := range scenarios(t, tpl) {
		st := evaluated(t, tpl, s)
		posture := st.Env.Param("PostureSchedule") != ""
		var got []string
		for _, a := range grantedActions(st) {
			for _, p := range postureServices {
				if strings.HasPrefix(a, p) {
					got = append(got, a)
				}
			}
		}
		var expect []string
		switch {
		case posture:
			on++
			expect = want
		case st.Env.Param("ResolveClients") == "true":
			expect = lookup
		}
		if !slices.Equal(got, expect) {
			t.Fatalf("%v: granted %v, want %v", s, got, expect)
		}
		_, rule := st.Resources["PostureScheduleRule"]
		_, perm := st.Resources["PostureInvokePermission"]
		if rule != posture || perm != posture {
			t.Fatalf("%v: schedule rule %v, permission %v", s, rule, perm)
		}
		if !posture {
			continue
		}
		doc := toJSON(st.Resources["ProcessorRole"])
		for _, frag := range []string{
			`"Resource":"arn:aws:cognito-idp:us-east-1:123456789012:userpool/*","Sid":"PostureReadUserPools"`,
			`"Resource":"arn:aws:cognito-identity:us-east-1:123456789012:identitypool/*","Sid":"PostureReadIdentityPools"`,
			`"Action":"cognito-idp:ListUserPools","Effect":"Allow","Resource":"*","Sid":"PostureListUserPools"`,
		} {
			if !strings.Contains(doc, frag) {
				t.Errorf("%v: the role lacks %s: %s", s, frag, doc)
			}
		}
		r := st.Resources["PostureScheduleRule"]
		tg := asList(r["Targets"])
		if r["ScheduleExpression"] != "rate(1 day)" || len(tg) != 1 || asMap(tg[0])["Arn"] != GetAttOf(st.FunctionID, "Arn") ||
			asMap(asMap(tg[0])["DeadLetterConfig"])["Arn"] != GetAttOf("DeadLetterQueue", "Arn") {
			t.Errorf("%v: schedule rule %s", s, toJSON(r))
		}
		if !strings.Contains(toJSON(st.Resources["DeadLetterQueuePolicy"]), "PostureScheduleDeadLetters") {
			t.Errorf("%v: the dead-letter queue refuses the schedule rule's events", s)
		}
	}
	if on == 0 {
		t.Fatal("no scenario sets PostureSchedule")
	}
}
