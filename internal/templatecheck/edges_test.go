package templatecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// edges are parameter values at the ends of what the template accepts:
// namespaces with the characters the Namespace pattern allows beyond
// letters and digits, and a stack name of 128 characters (CloudFormation's
// longest).
var edges = []Scenario{
	{"Namespace": "Cognito-Trail"},
	{"Namespace": "Custom/Cognito"},
	{"Namespace": "a.b_c#d:e-f/g"},
	{"AWS::StackName": "s" + strings.Repeat("x", 127)},
	{"AWS::StackName": "s" + strings.Repeat("x", 127), "Delivery": "buffered", "Namespace": "Cognito-Trail"},
}

// TestParameterEdges: every dashboard SEARCH, insight rule and body checks
// for the edge values. Before the namespace was quoted and the rule names
// built from the stack id, Cognito-Trail left six widgets empty and a
// 128-character stack name failed the deploy at the rules.
func TestParameterEdges(t *testing.T) {
	tpl := load(t)
	for _, s := range edges {
		probs, err := tpl.Check(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for _, p := range probs {
			t.Errorf("%s: %s", s, p)
		}
	}
}

// TestParameterEdgesCatchTheOldTemplate: the checks find both faults in the
// template as it was (namespace unquoted, rule names from the stack name).
func TestParameterEdgesCatchTheOldTemplate(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	old := strings.ReplaceAll(string(orig), `{\"${Namespace}\",`, "{${Namespace},")
	old = strings.Replace(old, "RuleName: !Join ['-', [cognitrail, !Select [2, !Split ['/', !Ref 'AWS::StackId']], NotAuthorizedException-source-IPs]]",
		"RuleName: !Sub ${AWS::StackName}-NotAuthorizedException-source-IPs", 1)
	tpl, err := Parse([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]string{
		"Cognito-Trail": "must be in double quotes",
		"long":          "PutInsightRule takes 1 to 128",
	} {
		sc := Scenario{"Namespace": s}
		if s == "long" {
			sc = Scenario{"AWS::StackName": "s" + strings.Repeat("x", 127)}
		}
		probs, err := tpl.Check(sc)
		var all []string
		if err != nil {
			all = append(all, err.Error())
		}
		for _, p := range probs {
			all = append(all, p.String())
		}
		if !strings.Contains(strings.Join(all, "\n"), want) {
			t.Errorf("%s: want a problem containing %q, got %q", s, want, all)
		}
	}
}
