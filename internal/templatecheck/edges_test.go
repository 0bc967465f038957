package templatecheck

import (
	"maps"
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

// TestCheckLogsQueryCommands: the commands a query may use, and the fields
// sort, display, dedup and parse read.
func TestCheckLogsQueryCommands(t *testing.T) {
	const f = `fields @timestamp, reason | filter message = "cognito_event"`
	for q, ok := range map[string]bool{
		f + ` | sort @timestamp desc | limit 25`:                                true,
		f + ` | stats count(*) as n by eventName | sort n desc, eventName asc`:  true,
		f + ` | display @timestamp, reason, eventName`:                          true,
		f + ` | dedup sourceIPAddress`:                                          true,
		f + ` | parse eventName "Admin*" as op | display op`:                    true,
		f + ` | parse eventName /Admin(?<op>\w+)/ | display op`:                 true,
		f + ` | sort clientIp desc`:                                             false,
		f + ` | sort @timestamp descending`:                                     false,
		f + ` | display clientIp`:                                               false,
		f + ` | dedup clientIp`:                                                 false,
		f + ` | parse clientIp "*" as ip`:                                       false,
		f + ` | parse eventName "Admin*" as op | display other`:                 false,
		f + ` | limit 0`:                                                        false,
		f + ` | limit 10001`:                                                    false,
		f + ` | head 25`:                                                        false,
		f + ` | sortt @timestamp desc`:                                          false,
		`field @timestamp | filter message = "cognito_event"`:                   false,
		`fields @timestamp | filter message = "cognito_event" | stats count(*)`: true,
	} {
		if err := CheckLogsQuery(q); (err == nil) != ok {
			t.Errorf("%s: %v, want ok=%v", q, err, ok)
		}
	}
}

// TestAlarmMetricMathRefuses: metric math ids and ReturnData.
func TestAlarmMetricMathRefuses(t *testing.T) {
	st := &Stack{}
	q := func(id, expr string, rd any) map[string]any {
		m := map[string]any{"Id": id, "Expression": expr}
		if rd != nil {
			m["ReturnData"] = rd
		}
		return m
	}
	alarm := func(tid string, qs ...map[string]any) map[string]any {
		l := make([]any, len(qs))
		for i := range qs {
			l[i] = qs[i]
		}
		p := map[string]any{"TreatMissingData": "notBreaching", "Metrics": l}
		if tid != "" {
			p["ThresholdMetricId"] = tid
		}
		return p
	}
	for name, tc := range map[string]struct {
		p  map[string]any
		ok bool
	}{
		"one returns":          {alarm("", q("a", "1", false), q("b", "a*2", true)), true},
		"left out is true":     {alarm("", q("a", "1", false), q("b", "a*2", nil)), true},
		"anomaly returns two":  {alarm("band", q("a", "1", true), q("band", "ANOMALY_DETECTION_BAND(a, 2)", nil)), true},
		"two return":           {alarm("", q("a", "1", nil), q("b", "a*2", true)), false},
		"none returns":         {alarm("", q("a", "1", false), q("b", "a*2", false)), false},
		"upper-case id":        {alarm("", q("A", "1", false), q("b", "A*2", true)), false},
		"duplicate id":         {alarm("", q("a", "1", false), q("a", "2", true)), false},
		"undefined id":         {alarm("", q("a", "1", false), q("b", "c*2", true)), false},
		"unknown threshold id": {alarm("band", q("a", "1", true), q("b", "ANOMALY_DETECTION_BAND(a, 2)", nil)), false},
	} {
		if errs := st.checkAlarm(tc.p); (len(errs) == 0) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", name, errs, tc.ok)
		}
	}
}

// TestWidgetMetricMathRefuses: metric math ids in a metric widget.
func TestWidgetMetricMathRefuses(t *testing.T) {
	for w, ok := range map[string]bool{
		`{"type":"metric","properties":{"region":"r","metrics":[[{"id":"m1","expression":"SEARCH('{\"A-B\",Operation} MetricName=\"Events\"', 'Sum', 300)"}],[{"id":"e1","expression":"m1*2"}]]}}`: true,
		`{"type":"metric","properties":{"region":"r","metrics":[[{"id":"M1","expression":"1"}]]}}`:                                                                                                 false,
		`{"type":"metric","properties":{"region":"r","metrics":[[{"id":"a","expression":"1"}],[{"id":"a","expression":"2"}]]}}`:                                                                    false,
		`{"type":"metric","properties":{"region":"r","metrics":[[{"id":"a","expression":"b*2"}]]}}`:                                                                                                false,
	} {
		if errs := CheckDashboardLayout(`{"widgets":[` + w + `]}`); (len(errs) == 0) != ok {
			t.Errorf("%s: %v, want ok=%v", w, errs, ok)
		}
	}
}

// TestInsightRuleBodyRefuses: the Contributor Insights rule syntax and
// PutInsightRule's limits, one refused case each, from a body that passes.
func TestInsightRuleBodyRefuses(t *testing.T) {
	tpl := load(t)
	st := evaluated(t, tpl, Scenario{})
	good := st.Resources["ForgotPasswordSourceIPsRule"]
	if err := st.checkInsightRule(good); err != nil {
		t.Fatalf("the template's rule: %v", err)
	}
	body := scalarString(good["RuleBody"])
	filters := `{"Match": "$.message", "In": ["cognito_event"]},`
	if !strings.Contains(body, filters) {
		t.Fatalf("the rule body changed; update this test: %s", body)
	}
	for name, tc := range map[string][2]string{
		"name too long":     {"RuleName", strings.Repeat("n", 129)},
		"name empty":        {"RuleName", ""},
		"name not ASCII":    {"RuleName", "règle"},
		"unknown field":     {"RuleBody", strings.Replace(body, `"AggregateOn"`, `"Aggregate": "Count", "AggregateOn"`, 1)},
		"filter operator":   {"RuleBody", strings.Replace(body, `"In": ["cognito_event"]`, `"Is": ["cognito_event"]`, 1)},
		"two operators":     {"RuleBody", strings.Replace(body, `"In": ["cognito_event"]`, `"In": ["cognito_event"], "NotIn": ["x"]`, 1)},
		"filter sans Match": {"RuleBody", strings.Replace(body, `"Match": "$.message", `, ``, 1)},
		"five filters":      {"RuleBody", strings.Replace(body, filters, filters+strings.Repeat(`{"Match": "$.reason", "IsPresent": true},`, 4), 1)},
		"Sum sans ValueOf":  {"RuleBody", strings.Replace(body, `"AggregateOn": "Count"`, `"AggregateOn": "Sum"`, 1)},
		"schema version":    {"RuleBody", strings.Replace(body, `"Version": 1`, `"Version": 2`, 1)},
		"log format":        {"RuleBody", strings.Replace(body, `"LogFormat": "JSON"`, `"LogFormat": "CLF"`, 1)},
		"five keys":         {"RuleBody", strings.Replace(body, `"Keys": ["$.sourceIPAddress"]`, `"Keys": ["$.sourceIPAddress","$.reason","$.category","$.eventName","$.errorCode"]`, 1)},
		"too long":          {"RuleBody", body + strings.Repeat(" ", 8193-len(body))},
	} {
		p := maps.Clone(good)
		p[tc[0]] = tc[1]
		if p[tc[0]] == good[tc[0]] {
			t.Fatalf("%s: the change did not apply", name)
		}
		err := st.checkInsightRule(p)
		if err == nil {
			err = checkRuleName(scalarString(p["RuleName"]))
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		t.Logf("%s: %.150v", name, err) // go test -v: see each is refused for its own reason
	}
}
