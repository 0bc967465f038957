package templatecheck

import (
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

// NotableEventMsg is the message of the function's one-line-per-notable-event
// logs, which the saved queries and Contributor Insights rules read.
const NotableEventMsg = processor.NotableMsg

// MessageKey is the JSON key of the function's log messages.
const MessageKey = lambdaapp.MessageKey

// NotableEventFields are the attributes of a notable-event log line: the
// message and the fields pkg/processor writes, from its own list.
var NotableEventFields = append([]string{MessageKey}, processor.NotableFields()...)

// NotableReasons are the values of a notable-event line's reason attribute.
var NotableReasons = []string{processor.ReasonSignInFailure, processor.ReasonForgotPassword, processor.ReasonConfigChange, processor.ReasonUnauthenticatedRoleCall}

// AuthTypes are the values of the AuthType dimension.
var AuthTypes = []string{string(class.Authenticated), string(class.Unauthenticated), string(class.UnknownAuth)}

// CategoryNames are the values of the Category dimension.
func CategoryNames() []string {
	var names []string
	for _, c := range class.Categories() {
		names = append(names, c.String())
	}
	return names
}

// awsMetrics are the AWS service metrics the template may use, with their
// dimension names. Their dimension values must be this stack's resources.
var awsMetrics = map[string]map[string][]string{
	"AWS/Lambda": {
		"Invocations": {"FunctionName"}, "Errors": {"FunctionName"}, "Throttles": {"FunctionName"},
		"Duration": {"FunctionName"}, "ConcurrentExecutions": {"FunctionName"},
		"AsyncEventsDropped": {"FunctionName"}, "AsyncEventAge": {"FunctionName"},
	},
	"AWS/SQS": {
		"ApproximateNumberOfMessagesVisible": {"QueueName"}, "ApproximateAgeOfOldestMessage": {"QueueName"},
		"NumberOfMessagesSent": {"QueueName"},
	},
}

// Problem is one inconsistency found.
type Problem struct {
	Resource string
	Msg      string
}

func (p Problem) String() string { return p.Resource + ": " + p.Msg }

// MetricRef is one use of a metric: in an alarm, an anomaly detector, a
// dashboard row or a SEARCH expression.
type MetricRef struct {
	Namespace string
	Name      string
	// Dims maps dimension names to values; "" means any value (a SEARCH
	// schema dimension without a value).
	Dims map[string]string
	Stat string
}

func (r MetricRef) String() string {
	keys := slices.Sorted(maps.Keys(r.Dims))
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s{", r.Namespace, r.Name)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		if v := r.Dims[k]; v != "" {
			b.WriteString("=" + v)
		}
	}
	b.WriteString("}")
	if r.Stat != "" {
		b.WriteString(" " + r.Stat)
	}
	return b.String()
}

// CheckMetric checks that the metric reference names a metric and exact
// dimension set pkg/metric.Catalog publishes in namespace at or below level,
// that its dimension values are real, and that count metrics use Sum. AWS
// service metrics are allowed from a short list, with dimension values that
// are resources of the stack.
func CheckMetric(r MetricRef, namespace string, level metric.Level) error {
	if svc, ok := awsMetrics[r.Namespace]; ok {
		want, ok := svc[r.Name]
		if !ok {
			return fmt.Errorf("%s: not a metric this template may use from %s", r, r.Namespace)
		}
		if got := slices.Sorted(maps.Keys(r.Dims)); !slices.Equal(got, want) {
			return fmt.Errorf("%s: dimensions %v, want %v", r, got, want)
		}
		for k, v := range r.Dims {
			if !strings.HasPrefix(v, "{{") {
				return fmt.Errorf("%s: dimension %s=%q is not a resource of this stack", r, k, v)
			}
		}
		return nil
	}
	if r.Namespace != namespace {
		return fmt.Errorf("%s: namespace %q is not the function's NAMESPACE %q", r, r.Namespace, namespace)
	}
	spec, ok := metric.Lookup(r.Name)
	if !ok {
		return fmt.Errorf("%s: no metric %q in pkg/metric.Catalog", r, r.Name)
	}
	names := slices.Sorted(maps.Keys(r.Dims))
	var set *metric.DimensionSet
	for i, s := range spec.Sets {
		if slices.Equal(slices.Sorted(slices.Values(s.Names)), names) {
			set = &spec.Sets[i]
			break
		}
	}
	if set == nil {
		var sets []string
		for _, s := range spec.Sets {
			sets = append(sets, fmt.Sprint(s.Names))
		}
		return fmt.Errorf("%s: %s is not published with dimensions %v (catalog sets: %s)", r, r.Name, names, strings.Join(sets, " "))
	}
	if set.Level > level {
		return fmt.Errorf("%s: dimension set %v is published at level %s, but this stack publishes %s", r, names, set.Level, level)
	}
	for k, v := range r.Dims {
		if v == "" {
			continue
		}
		switch k {
		case metric.DimCategory:
			if !slices.Contains(CategoryNames(), v) {
				return fmt.Errorf("%s: %q is not a category (pkg/class: %v)", r, v, CategoryNames())
			}
			// The aggregator counts errors of the Cognito categories only.
			if r.Name == metric.Errors && v == class.Other.String() {
				return fmt.Errorf("%s: Errors is not published for category %q", r, v)
			}
		case metric.DimAuthType:
			if !slices.Contains(AuthTypes, v) {
				return fmt.Errorf("%s: %q is not an auth type %v", r, v, AuthTypes)
			}
		}
	}
	switch spec.Stat {
	case "":
		if r.Stat == "" {
			return fmt.Errorf("%s: no statistic", r)
		}
	case metric.StatSum:
		if r.Stat != spec.Stat {
			return fmt.Errorf("%s: %s is a count published as Values [1] Counts [n]: use the Sum statistic, not %q", r, r.Name, r.Stat)
		}
	default:
		if r.Stat != spec.Stat {
			return fmt.Errorf("%s: %s is read by its %s (each datum is one file's view of a window), not %q", r, r.Name, spec.Stat, r.Stat)
		}
	}
	return nil
}

// Stack is a template evaluated for one scenario.
type Stack struct {
	Env      *Env
	Scenario Scenario
	// Resources holds the evaluated properties of the resources that exist.
	Resources map[string]map[string]any
	Types     map[string]string
	// From the metric-publishing function's environment.
	FunctionID string
	Namespace  string
	Level      metric.Level
	LogGroup   string // what the function's LoggingConfig.LogGroup evaluates to
}

// Evaluate evaluates the template for scenario s.
func (t *Template) Evaluate(s Scenario) (*Stack, []Problem, error) {
	env, err := t.NewEnv(s)
	if err != nil {
		return nil, nil, err
	}
	st := &Stack{Env: env, Scenario: s, Resources: map[string]map[string]any{}, Types: map[string]string{}}
	var probs []Problem
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if !env.Active(id) {
			continue
		}
		r := t.Resources[id]
		props, err := env.Eval(r.Properties)
		if err != nil {
			probs = append(probs, Problem{id, err.Error()})
			continue
		}
		st.Resources[id] = asMap(props)
		st.Types[id] = r.Type
	}
	for _, name := range slices.Sorted(maps.Keys(t.Outputs)) {
		o := asMap(t.Outputs[name])
		if c, ok := o["Condition"].(string); ok {
			if on, err := env.Condition(c); err != nil || !on {
				continue
			}
		}
		if _, err := env.Eval(o["Value"]); err != nil {
			probs = append(probs, Problem{"Outputs." + name, err.Error()})
		}
	}
	for _, id := range t.ResourcesOfType("AWS::Serverless::Function") {
		p, ok := st.Resources[id]
		if !ok {
			continue
		}
		vars := asMap(asMap(p["Environment"])["Variables"])
		ns, ok := vars["NAMESPACE"].(string)
		if !ok {
			continue
		}
		if st.FunctionID != "" {
			probs = append(probs, Problem{id, "more than one function publishes metrics; the checker expects one"})
			continue
		}
		st.FunctionID, st.Namespace = id, ns
		lvl, err := metric.ParseLevel(scalarString(vars["DETAIL_LEVEL"]))
		if err != nil {
			probs = append(probs, Problem{id, err.Error()})
		}
		st.Level = lvl
		lc := asMap(p["LoggingConfig"])
		if lc["LogFormat"] != "JSON" {
			probs = append(probs, Problem{id, "LoggingConfig.LogFormat must be JSON: the queries and insight rules read JSON fields"})
		}
		switch l := scalarString(lc["ApplicationLogLevel"]); l {
		case "", "TRACE", "DEBUG", "INFO":
		default:
			// The function writes its cognito_event and finding lines
			// at INFO whatever LOG_LEVEL says; Lambda itself would drop them.
			probs = append(probs, Problem{id, "LoggingConfig.ApplicationLogLevel " + l +
				": Lambda would drop the INFO cognito_event and finding lines the queries, rules and widgets count (use LOG_LEVEL)"})
		}
		st.LogGroup = scalarString(lc["LogGroup"])
	}
	if st.FunctionID == "" {
		return st, probs, fmt.Errorf("no AWS::Serverless::Function with a NAMESPACE environment variable")
	}
	return st, probs, nil
}

// Check evaluates the template for scenario s and runs every check.
func (t *Template) Check(s Scenario) ([]Problem, error) {
	st, probs, err := t.Evaluate(s)
	if err != nil {
		return probs, err
	}
	probs = append(probs, st.checkDelivery()...)
	ids := slices.Sorted(maps.Keys(st.Resources))
	for _, id := range ids {
		p := st.Resources[id]
		add := func(err error) {
			if err != nil {
				probs = append(probs, Problem{id, err.Error()})
			}
		}
		switch st.Types[id] {
		case "AWS::CloudWatch::Alarm":
			for _, err := range st.checkAlarm(p) {
				add(err)
			}
			add(CheckLateData(p, st.Namespace))
		case "AWS::CloudWatch::CompositeAlarm":
			add(st.checkCompositeAlarm(p))
		case "AWS::CloudWatch::AnomalyDetector":
			if mm, ok := p["MetricMathAnomalyDetector"]; ok {
				for _, q := range asList(asMap(mm)["MetricDataQueries"]) {
					if ms, ok := asMap(q)["MetricStat"]; ok {
						ms := asMap(ms)
						m := asMap(ms["Metric"])
						add(CheckMetric(MetricRef{Namespace: scalarString(m["Namespace"]), Name: scalarString(m["MetricName"]),
							Dims: dimsOf(m["Dimensions"]), Stat: scalarString(ms["Stat"])}, st.Namespace, metric.Basic))
					}
				}
				break
			}
			m := asMap(p["SingleMetricAnomalyDetector"])
			if len(m) == 0 {
				m = p
			}
			ref := MetricRef{Namespace: scalarString(m["Namespace"]), Name: scalarString(m["MetricName"]),
				Dims: dimsOf(m["Dimensions"]), Stat: scalarString(m["Stat"])}
			add(CheckMetric(ref, st.Namespace, metric.Basic))
		case "AWS::CloudWatch::Dashboard":
			for _, err := range st.checkDashboard(scalarString(p["DashboardBody"])) {
				add(err)
			}
			for _, err := range CheckDashboardLayout(scalarString(p["DashboardBody"])) {
				add(err)
			}
		case "AWS::CloudTrail::Trail":
			add(checkNameLength("TrailName", scalarString(p["TrailName"]), 3))
		case "AWS::Athena::WorkGroup":
			add(checkNameLength("Name", scalarString(p["Name"]), 1))
		case "AWS::CloudWatch::InsightRule":
			add(st.checkInsightRule(p))
			add(checkRuleName(scalarString(p["RuleName"])))
		case "AWS::Logs::QueryDefinition":
			if !slices.Contains(stringList(p["LogGroupNames"]), st.LogGroup) {
				add(fmt.Errorf("LogGroupNames %v does not include the function's log group %s", p["LogGroupNames"], st.LogGroup))
			}
			add(CheckLogsQuery(scalarString(p["QueryString"])))
		case "AWS::IAM::Role":
			add(st.checkPutMetricDataCondition(p))
		}
	}
	return probs, nil
}

func dimsOf(v any) map[string]string {
	d := map[string]string{}
	for _, x := range asList(v) {
		m := asMap(x)
		d[scalarString(m["Name"])] = scalarString(m["Value"])
	}
	return d
}

func stringList(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, scalarString(x))
	}
	return out
}

// roleStatements yields the statements of a role's inline policies.
func roleStatements(role map[string]any) iter.Seq[map[string]any] {
	return func(yield func(map[string]any) bool) {
		for _, pol := range asList(role["Policies"]) {
			for _, s := range asList(asMap(asMap(pol)["PolicyDocument"])["Statement"]) {
				if !yield(asMap(s)) {
					return
				}
			}
		}
	}
}

// oneOrMore reads a statement's Action or Resource, which IAM takes as one
// string or a list.
func oneOrMore(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return stringList(v)
}

// checkAlarm: alarms must use Basic-level sets (always published) and say
// how they treat missing data.
func (st *Stack) checkAlarm(p map[string]any) []error {
	var errs []error
	if _, ok := p["TreatMissingData"]; !ok {
		errs = append(errs, fmt.Errorf("no TreatMissingData: say what silence means"))
	}
	if name, ok := p["MetricName"]; ok {
		stat := scalarString(p["Statistic"])
		if stat == "" {
			stat = scalarString(p["ExtendedStatistic"])
		}
		ref := MetricRef{Namespace: scalarString(p["Namespace"]), Name: scalarString(name), Dims: dimsOf(p["Dimensions"]), Stat: stat}
		if err := CheckMetric(ref, st.Namespace, metric.Basic); err != nil {
			errs = append(errs, err)
		}
		return errs
	}
	queries := asList(p["Metrics"])
	if len(queries) == 0 {
		return append(errs, fmt.Errorf("neither MetricName nor Metrics"))
	}
	ids := map[string]bool{}
	returned := 0
	for _, q := range queries {
		id := scalarString(asMap(q)["Id"])
		if !metricID.MatchString(id) {
			errs = append(errs, fmt.Errorf("metric id %q must start with a lower-case letter and have only letters, digits and _", id))
		}
		if ids[id] {
			errs = append(errs, fmt.Errorf("metric id %q is used twice", id))
		}
		ids[id] = true
		// ReturnData defaults to true when left out.
		if rd, ok := asMap(q)["ReturnData"]; !ok || scalarString(rd) == "true" {
			returned++
		}
	}
	// PutMetricAlarm: exactly one query returns data, the one alarmed on;
	// an anomaly detection alarm also returns its band (ThresholdMetricId).
	want := 1
	if scalarString(p["ThresholdMetricId"]) != "" {
		want = 2
	}
	if returned != want {
		errs = append(errs, fmt.Errorf("%d Metrics return data (ReturnData true or left out), want exactly %d", returned, want))
	}
	for _, q := range queries {
		m := asMap(q)
		if ms, ok := m["MetricStat"]; ok {
			ms := asMap(ms)
			mm := asMap(ms["Metric"])
			ref := MetricRef{Namespace: scalarString(mm["Namespace"]), Name: scalarString(mm["MetricName"]),
				Dims: dimsOf(mm["Dimensions"]), Stat: scalarString(ms["Stat"])}
			if err := CheckMetric(ref, st.Namespace, metric.Basic); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := checkExpressionIDs(scalarString(m["Expression"]), ids); err != nil {
			errs = append(errs, err)
		}
	}
	if id := scalarString(p["ThresholdMetricId"]); id != "" && !ids[id] {
		errs = append(errs, fmt.Errorf("ThresholdMetricId %q is not one of the Metrics", id))
	}
	return errs
}

var exprIdent = regexp.MustCompile(`\b([a-z][A-Za-z0-9_]*)\b`)

// checkExpressionIDs: the lower-case identifiers of a metric math expression
// (function names are upper case) must be ids of the other queries.
func checkExpressionIDs(expr string, ids map[string]bool) error {
	if strings.Contains(expr, "SEARCH(") {
		return nil
	}
	for _, m := range exprIdent.FindAllStringSubmatch(expr, -1) {
		if !ids[m[1]] {
			return fmt.Errorf("expression %q refers to %q, which is not a query id", expr, m[1])
		}
	}
	return nil
}

func (st *Stack) checkPutMetricDataCondition(p map[string]any) error {
	for s := range roleStatements(p) {
		if !slices.Contains(oneOrMore(s["Action"]), "cloudwatch:PutMetricData") {
			continue
		}
		ns := asMap(asMap(s["Condition"])["StringEquals"])["cloudwatch:namespace"]
		if scalarString(ns) != st.Namespace {
			return fmt.Errorf("cloudwatch:PutMetricData must be conditioned on cloudwatch:namespace = %q (the function's NAMESPACE), got %v", st.Namespace, ns)
		}
	}
	return nil
}

var (
	searchExpr   = regexp.MustCompile(`SEARCH\(\s*'\{([^}]*)\}([^']*)'\s*,\s*'([A-Za-z0-9.]+)'`)
	searchFilter = regexp.MustCompile(`([A-Za-z]+)\s*=\s*"([^"]*)"`)
)

// ParseSearch returns the metric a SEARCH('{Namespace,Dim,...} MetricName="X"
// Dim="v"', 'Stat', period) expression selects: the schema gives the exact
// dimension set.
func ParseSearch(expr string) (MetricRef, error) {
	m := searchExpr.FindStringSubmatch(expr)
	if m == nil {
		return MetricRef{}, fmt.Errorf("SEARCH expression %q: want SEARCH('{Namespace,Dims...} MetricName=\"...\" ...', 'Stat', period)", expr)
	}
	schema := strings.Split(m[1], ",")
	ns := strings.TrimSpace(schema[0])
	// CloudWatch's search expression syntax: "If a namespace ... contains
	// characters other than letters, numbers and underscore, enclose it in
	// double quotes". Quoting is valid for every name.
	if q, ok := strings.CutPrefix(ns, `"`); ok && strings.HasSuffix(q, `"`) {
		ns = strings.TrimSuffix(q, `"`)
	} else if strings.ContainsFunc(ns, func(r rune) bool { return !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) }) {
		return MetricRef{}, fmt.Errorf("SEARCH expression %q: namespace %s must be in double quotes (it has characters other than letters, digits and _)", expr, ns)
	}
	r := MetricRef{Namespace: ns, Dims: map[string]string{}, Stat: m[3]}
	for _, d := range schema[1:] {
		r.Dims[strings.TrimSpace(d)] = ""
	}
	for _, f := range searchFilter.FindAllStringSubmatch(m[2], -1) {
		if f[1] == "MetricName" {
			r.Name = f[2]
			continue
		}
		if _, ok := r.Dims[f[1]]; !ok {
			return r, fmt.Errorf("SEARCH expression %q filters on %s, which is not in its schema", expr, f[1])
		}
		r.Dims[f[1]] = f[2]
	}
	if r.Name == "" {
		return r, fmt.Errorf("SEARCH expression %q has no MetricName=\"...\": it would match any metric of the schema", expr)
	}
	return r, nil
}

// DashboardRefs returns the metrics a dashboard body's metric widgets use,
// and the insight rule names and alarm ARNs it shows.
func DashboardRefs(body string) (refs []MetricRef, rules, alarms []string, logQueries []string, err error) {
	var d struct {
		Widgets []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("dashboard body is not valid JSON: %w", err)
	}
	for i, w := range d.Widgets {
		p := w.Properties
		switch w.Type {
		case "alarm":
			alarms = append(alarms, stringList(p["alarms"])...)
		case "log":
			logQueries = append(logQueries, scalarString(p["query"]))
		case "metric":
			if ir, ok := p["insightRule"]; ok {
				rules = append(rules, scalarString(asMap(ir)["ruleName"]))
				continue
			}
			widgetStat := scalarString(p["stat"])
			var prev []any
			for _, row := range asList(p["metrics"]) {
				row := asList(row)
				var opts map[string]any
				var fields []any
				for j, x := range row {
					if m, ok := x.(map[string]any); ok {
						opts = m
						break
					}
					if x == "." && j < len(prev) {
						x = prev[j]
					}
					fields = append(fields, x)
				}
				if len(fields) == 0 {
					if e := scalarString(opts["expression"]); strings.Contains(e, "SEARCH(") {
						r, err := ParseSearch(e)
						if err != nil {
							return nil, nil, nil, nil, fmt.Errorf("widget %d: %w", i, err)
						}
						refs = append(refs, r)
					}
					continue
				}
				prev = fields
				if len(fields) < 2 || len(fields)%2 != 0 {
					return nil, nil, nil, nil, fmt.Errorf("widget %d: metric row %v is not [namespace, name, dim, value, ...]", i, row)
				}
				r := MetricRef{Namespace: scalarString(fields[0]), Name: scalarString(fields[1]), Dims: map[string]string{}, Stat: widgetStat}
				for k := 2; k < len(fields); k += 2 {
					r.Dims[scalarString(fields[k])] = scalarString(fields[k+1])
				}
				if s := scalarString(opts["stat"]); s != "" {
					r.Stat = s
				}
				if r.Stat == "" {
					r.Stat = "Average" // the dashboard default
				}
				refs = append(refs, r)
			}
		}
	}
	return refs, rules, alarms, logQueries, nil
}

func (st *Stack) checkDashboard(body string) []error {
	refs, rules, alarms, logQueries, err := DashboardRefs(body)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, r := range refs {
		if err := CheckMetric(r, st.Namespace, st.Level); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range rules {
		if !st.isAttOf(name, "AWS::CloudWatch::InsightRule", "RuleName") {
			errs = append(errs, fmt.Errorf("insight rule widget shows %q, not a rule of this stack", name))
		}
	}
	for _, a := range alarms {
		if !st.isAttOf(a, "AWS::CloudWatch::Alarm", "Arn") && !st.isAttOf(a, "AWS::CloudWatch::CompositeAlarm", "Arn") {
			errs = append(errs, fmt.Errorf("alarm widget shows %q, not an alarm of this stack", a))
		}
	}
	// Every alarm that notifies is shown; alarms without actions are parts
	// of a composite alarm, which is shown instead.
	for _, id := range append(st.ofType("AWS::CloudWatch::Alarm"), st.ofType("AWS::CloudWatch::CompositeAlarm")...) {
		if len(asList(st.Resources[id]["AlarmActions"])) == 0 && st.Types[id] == "AWS::CloudWatch::Alarm" {
			continue
		}
		if !slices.Contains(alarms, GetAttOf(id, "Arn")) {
			errs = append(errs, fmt.Errorf("alarm %s is missing from the alarm status widget", id))
		}
	}
	for _, id := range st.ofType("AWS::CloudWatch::InsightRule") {
		if !slices.Contains(rules, GetAttOf(id, "RuleName")) {
			errs = append(errs, fmt.Errorf("insight rule %s is not shown on the dashboard", id))
		}
	}
	for _, q := range logQueries {
		src, rest, ok := strings.Cut(q, "|")
		if !ok || !strings.Contains(src, "'"+st.LogGroup+"'") {
			errs = append(errs, fmt.Errorf("log widget query %q does not read the function's log group %s", q, st.LogGroup))
			continue
		}
		if err := CheckLogsQuery(rest); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// metricID: a metric math id starts with a lower-case letter and has
// letters, digits and underscores (GetMetricData MetricDataQuery.Id).
var metricID = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

func checkWidgetMath(p map[string]any) []error {
	ids := map[string]bool{}
	var exprs []string
	var errs []error
	for _, row := range asList(p["metrics"]) {
		for _, x := range asList(row) {
			opts, ok := x.(map[string]any)
			if !ok {
				continue
			}
			if id, ok := opts["id"]; ok {
				id := scalarString(id)
				if !metricID.MatchString(id) {
					errs = append(errs, fmt.Errorf("metric id %q must start with a lower-case letter and have only letters, digits and _", id))
				}
				if ids[id] {
					errs = append(errs, fmt.Errorf("metric id %q is used twice", id))
				}
				ids[id] = true
			}
			if e := scalarString(opts["expression"]); e != "" {
				exprs = append(exprs, e)
			}
		}
	}
	for _, e := range exprs {
		if err := checkExpressionIDs(e, ids); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (st *Stack) ofType(typ string) []string {
	var ids []string
	for id, t := range st.Types {
		if t == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (st *Stack) isAttOf(v, typ, attr string) bool {
	for _, id := range st.ofType(typ) {
		if v == GetAttOf(id, attr) {
			return true
		}
	}
	return false
}

// CheckDashboardLayout holds a dashboard body to the documented widget
// structure ("Dashboard Body Structure and Syntax"): a grid 24 units wide,
// each widget's width and height from 1 to 24 and 1 to 1000, x from 0 to
// 23 and within the grid with its width, a type CloudWatch knows, and the
// properties each type requires (metric: metrics or an insight rule, and a
// region; text: markdown; log: query and region; alarm: alarms). In a
// metric widget, metric math ids are unique, start lower case, and are the
// only ids its expressions refer to.
func CheckDashboardLayout(body string) []error {
	var d struct {
		Widgets []struct {
			Type       string         `json:"type"`
			X          *int           `json:"x"`
			Y          *int           `json:"y"`
			Width      *int           `json:"width"`
			Height     *int           `json:"height"`
			Properties map[string]any `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return []error{fmt.Errorf("dashboard body is not valid JSON: %w", err)}
	}
	var errs []error
	for i, w := range d.Widgets {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("widget %d (%s): %s", i, w.Type, fmt.Sprintf(format, args...)))
		}
		width, height := 6, 6 // CloudWatch's defaults
		if w.Width != nil {
			width = *w.Width
		}
		if w.Height != nil {
			height = *w.Height
		}
		if width < 1 || width > 24 || height < 1 || height > 1000 {
			bad("width %d, height %d: want 1-24 and 1-1000", width, height)
		}
		if w.X != nil && (*w.X < 0 || *w.X > 23 || *w.X+width > 24) {
			bad("x %d with width %d leaves the 24-unit grid", *w.X, width)
		}
		if w.Y != nil && *w.Y < 0 {
			bad("y %d", *w.Y)
		}
		p := w.Properties
		switch w.Type {
		case "metric":
			if p["metrics"] == nil && p["insightRule"] == nil {
				bad("no metrics and no insightRule")
			}
			if scalarString(p["region"]) == "" {
				bad("no region")
			}
			for _, err := range checkWidgetMath(p) {
				bad("%v", err)
			}
		case "text":
			if scalarString(p["markdown"]) == "" {
				bad("no markdown")
			}
		case "log":
			if scalarString(p["query"]) == "" || scalarString(p["region"]) == "" {
				bad("no query or region")
			}
		case "alarm":
			if p["alarms"] == nil {
				bad("no alarms")
			}
		case "explorer", "custom":
		default:
			bad("unknown widget type")
		}
	}
	return errs
}

// checkNameLength holds a name built from the stack's to its service's
// limit of 128 characters (CloudTrail: 3 to 128; Athena workgroups: 1 to
// 128), which a 128-character stack name would pass.
func checkNameLength(attr, name string, least int) error {
	if name != "" && (len(name) < least || len(name) > 128) {
		return fmt.Errorf("%s %q (%d characters): the service takes %d to 128", attr, name, len(name), least)
	}
	return nil
}

// ruleNameRE is PutInsightRule's RuleName: 1 to 128 characters of
// [\x20-\x7E]+ (the API reference's pattern), which the stack builds.
var ruleNameRE = regexp.MustCompile(`^[\x20-\x7E]{1,128}$`)

func checkRuleName(name string) error {
	if !ruleNameRE.MatchString(name) {
		return fmt.Errorf("insight rule name %q (%d characters): PutInsightRule takes 1 to 128 printable ASCII characters", name, len(name))
	}
	return nil
}

// checkInsightRule: a CloudWatchLogRule over the function's log group that
// counts notable-event lines by their real fields.
func (st *Stack) checkInsightRule(p map[string]any) error {
	var body struct {
		Schema struct {
			Name    string
			Version int
		}
		LogGroupNames []string
		LogGroupARNs  []string // cross-account; refused below (not the function's log group)
		LogFormat     string
		Fields        map[string]string // CLF only
		Contribution  struct {
			Keys    []string
			ValueOf string
			Filters []map[string]any
		}
		AggregateOn string
	}
	// PutInsightRule: a RuleDefinition has 1 to 8192 ASCII characters.
	raw := scalarString(p["RuleBody"])
	if len(raw) < 1 || len(raw) > 8192 || strings.ContainsFunc(raw, func(r rune) bool { return r > 0x7F }) {
		return fmt.Errorf("RuleBody has %d characters: want 1 to 8192 ASCII characters", len(raw))
	}
	// Fields the Contributor Insights rule syntax does not know are refused,
	// so a misspelt key (Filter for Filters) does not silently count all.
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return fmt.Errorf("RuleBody does not follow the Contributor Insights rule syntax: %w", err)
	}
	if n := len(body.Contribution.Filters); n > 4 {
		return fmt.Errorf("RuleBody has %d filters, want at most 4", n)
	}
	for _, f := range body.Contribution.Filters {
		var ops []string
		for k := range f {
			switch k {
			case "Match":
			case "In", "NotIn", "StartsWith", "GreaterThan", "LessThan", "EqualTo", "NotEqualTo", "IsPresent":
				ops = append(ops, k)
			default:
				return fmt.Errorf("RuleBody filter %v: %q is not a filter operator", f, k)
			}
		}
		if _, ok := f["Match"]; !ok || len(ops) != 1 {
			return fmt.Errorf("RuleBody filter %v: want Match and exactly one operator", f)
		}
	}
	if (body.AggregateOn == "Sum") != (body.Contribution.ValueOf != "") {
		return fmt.Errorf("RuleBody AggregateOn %q with ValueOf %q: Sum needs ValueOf, Count has none", body.AggregateOn, body.Contribution.ValueOf)
	}
	if body.Schema.Name != "CloudWatchLogRule" || body.Schema.Version != 1 {
		return fmt.Errorf("RuleBody Schema must be {CloudWatchLogRule 1}, got %v", body.Schema)
	}
	if body.LogFormat != "JSON" {
		return fmt.Errorf("RuleBody LogFormat %q, want JSON", body.LogFormat)
	}
	if !slices.Equal(body.LogGroupNames, []string{st.LogGroup}) {
		return fmt.Errorf("RuleBody LogGroupNames %v, want the function's log group [%s]", body.LogGroupNames, st.LogGroup)
	}
	if body.AggregateOn != "Count" && body.AggregateOn != "Sum" {
		return fmt.Errorf("RuleBody AggregateOn %q", body.AggregateOn)
	}
	if n := len(body.Contribution.Keys); n < 1 || n > 4 {
		return fmt.Errorf("RuleBody has %d keys, want 1 to 4", n)
	}
	field := func(path string) (string, error) {
		f, ok := strings.CutPrefix(path, "$.")
		if !ok || !slices.Contains(NotableEventFields, f) {
			return "", fmt.Errorf("RuleBody refers to %q, not a notable-event field ($.%s)", path, strings.Join(NotableEventFields, ", $."))
		}
		return f, nil
	}
	for _, k := range body.Contribution.Keys {
		if _, err := field(k); err != nil {
			return err
		}
	}
	msgFilter := false
	for _, f := range body.Contribution.Filters {
		name, err := field(scalarString(f["Match"]))
		if err != nil {
			return err
		}
		in := stringList(f["In"])
		switch name {
		case MessageKey:
			msgFilter = slices.Equal(in, []string{NotableEventMsg})
		case "reason":
			for _, v := range in {
				if !slices.Contains(NotableReasons, v) {
					return fmt.Errorf("RuleBody filters reason %q, not one of %v", v, NotableReasons)
				}
			}
		case "category":
			for _, v := range in {
				if !slices.Contains(CategoryNames(), v) {
					return fmt.Errorf("RuleBody filters category %q, not one of %v", v, CategoryNames())
				}
			}
		}
	}
	if !msgFilter {
		return fmt.Errorf("RuleBody must filter $.%s In [%q]: other log lines have no such fields", MessageKey, NotableEventMsg)
	}
	return nil
}

var (
	filterField = regexp.MustCompile(`([A-Za-z@][\w.@]*)\s*(?:=|!=|like\b|not like\b)`)
	asAlias     = regexp.MustCompile(`(?i)\s+as\s+([\w@]+)\s*$`)
)

// FindingMsg is the message of the function's one line per finding
// (pkg/processor), whose attributes are FindingFields.
const FindingMsg = processor.FindingMsg

// FindingFields are the attributes of a finding log line: the JSON names of
// finding.Finding, the fields of a `cognitrail findings` row.
var FindingFields = func() []string {
	fields := []string{MessageKey}
	t := reflect.TypeFor[finding.Finding]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			fields = append(fields, name)
		}
	}
	return fields
}()

// queryCommands: the Logs Insights commands a query here may use (a
// misspelt or unsupported one fails only when the query runs).
var queryCommands = []string{"fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup"}

var namedGroup = regexp.MustCompile(`\(\?<([A-Za-z_]\w*)>`)

// CheckLogsQuery checks a Logs Insights query over the notable-event lines
// (message = "cognito_event") or the finding lines (message = "finding"):
// it filters on one of those messages, uses only the commands in
// queryCommands, and reads only that line's fields (or @-fields and its own
// aliases) in fields, filter, stats ... by, sort, display, dedup and parse;
// limit is 1 to 10000.
func CheckLogsQuery(q string) error {
	lineFields := NotableEventFields
	switch {
	case regexp.MustCompile(`\b` + MessageKey + `\s*=\s*"` + NotableEventMsg + `"`).MatchString(q):
	case regexp.MustCompile(`\b` + MessageKey + `\s*=\s*"` + FindingMsg + `"`).MatchString(q):
		lineFields = FindingFields
	default:
		return fmt.Errorf("query does not filter %s = %q or %q: %q", MessageKey, NotableEventMsg, FindingMsg, q)
	}
	aliases := map[string]bool{}
	var used []string
	for _, seg := range strings.Split(q, "|") {
		seg = strings.TrimSpace(seg)
		cmd, rest, _ := strings.Cut(seg, " ")
		if !slices.Contains(queryCommands, cmd) {
			return fmt.Errorf("query command %q is not one of %v: %q", cmd, queryCommands, q)
		}
		switch cmd {
		case "fields":
			for _, f := range strings.Split(rest, ",") {
				f = strings.TrimSpace(f)
				if m := asAlias.FindStringSubmatch(f); m != nil {
					aliases[m[1]] = true
					f = strings.TrimSpace(f[:len(f)-len(m[0])])
				}
				used = append(used, f)
			}
		case "filter":
			for _, m := range filterField.FindAllStringSubmatch(rest, -1) {
				used = append(used, m[1])
			}
		case "sort":
			// sort f1 [asc|desc], f2 ...
			for _, f := range strings.Split(rest, ",") {
				if f := strings.Fields(f); len(f) > 0 {
					if len(f) > 2 || len(f) == 2 && f[1] != "asc" && f[1] != "desc" {
						return fmt.Errorf("sort %q: want field [asc|desc], ...: %q", rest, q)
					}
					used = append(used, f[0])
				}
			}
		case "display":
			for _, f := range strings.Split(rest, ",") {
				used = append(used, strings.TrimSpace(f))
			}
		case "dedup":
			for _, f := range strings.Split(rest, ",") {
				used = append(used, strings.TrimSpace(f))
			}
		case "limit":
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err != nil || n < 1 || n > 10000 {
				return fmt.Errorf("limit %q: want 1 to 10000: %q", rest, q)
			}
		case "parse":
			// parse field "glob" | /regex/ as a, b, ...: it reads the field
			// and makes the aliases (a regex's named groups make their own).
			field, pattern, _ := strings.Cut(strings.TrimSpace(rest), " ")
			used = append(used, field)
			if _, as, ok := strings.Cut(pattern, " as "); ok {
				for _, a := range strings.Split(as, ",") {
					aliases[strings.TrimSpace(a)] = true
				}
			}
			for _, g := range namedGroup.FindAllStringSubmatch(pattern, -1) {
				aliases[g[1]] = true
			}
		case "stats":
			aggs, by, _ := strings.Cut(rest, " by ")
			for _, a := range strings.Split(aggs, ",") {
				if m := asAlias.FindStringSubmatch(strings.TrimSpace(a)); m != nil {
					aliases[m[1]] = true
				}
			}
			for _, f := range strings.Split(by, ",") {
				if f = strings.TrimSpace(f); f != "" {
					used = append(used, f)
				}
			}
		}
	}
	for _, f := range used {
		if strings.HasPrefix(f, "@") || aliases[f] || slices.Contains(lineFields, f) {
			continue
		}
		return fmt.Errorf("query uses field %q, which its log lines do not have (%v): %q", f, lineFields, q)
	}
	return nil
}

// CheckBuild checks that each function built with BuildMethod makefile has
// its build-<LogicalId> target in the Makefile of its CodeUri, writing
// $(ARTIFACTS_DIR)/bootstrap for the function's architecture.
func (t *Template) CheckBuild(templateDir string) []Problem {
	var probs []Problem
	for _, id := range t.ResourcesOfType("AWS::Serverless::Function") {
		r := t.Resources[id]
		if r.Metadata["BuildMethod"] != "makefile" {
			continue
		}
		fail := func(format string, a ...any) { probs = append(probs, Problem{id, fmt.Sprintf(format, a...)}) }
		codeURI, ok := r.Properties["CodeUri"].(string)
		if !ok {
			fail("CodeUri must be a local directory for BuildMethod makefile")
			continue
		}
		mk, err := os.ReadFile(filepath.Join(templateDir, codeURI, "Makefile"))
		if err != nil {
			fail("sam build runs make build-%s in CodeUri %q: %v", id, codeURI, err)
			continue
		}
		recipe, found := makeRecipe(string(mk), "build-"+id)
		if !found {
			fail("the Makefile in %q has no target build-%s (sam build calls it)", codeURI, id)
			continue
		}
		if r.Properties["Handler"] == "bootstrap" && !strings.Contains(recipe, "$(ARTIFACTS_DIR)/bootstrap") {
			fail("build-%s must write $(ARTIFACTS_DIR)/bootstrap (Handler bootstrap); recipe: %q", id, recipe)
		}
		arch := "x86_64"
		if a := stringList(r.Properties["Architectures"]); len(a) == 1 {
			arch = a[0]
		}
		goarch := map[string]string{"arm64": "arm64", "x86_64": "amd64"}[arch]
		if !strings.Contains(recipe, "GOARCH="+goarch) {
			fail("build-%s must build GOARCH=%s for Architectures [%s]", id, goarch, arch)
		}
		if !strings.Contains(recipe, "GOOS=linux") {
			fail("build-%s must build GOOS=linux", id)
		}
		pkg := regexp.MustCompile(`\s(\./[\w./-]+)\s*$`).FindStringSubmatch(recipe)
		if pkg == nil {
			fail("build-%s: cannot find the package path at the end of the go build command", id)
		} else if fi, err := os.Stat(filepath.Join(templateDir, codeURI, pkg[1])); err != nil || !fi.IsDir() {
			fail("build-%s builds %s, which is not a directory", id, pkg[1])
		}
	}
	return probs
}

// MakeRecipe returns the recipe of a Makefile target (continuation lines
// joined), so a test can build exactly as the target does.
func MakeRecipe(mk, target string) (string, bool) { return makeRecipe(mk, target) }

// makeRecipe returns the recipe of a Makefile target (continuation lines
// joined).
func makeRecipe(mk, target string) (string, bool) {
	lines := strings.Split(mk, "\n")
	for i, l := range lines {
		name, _, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) != target || strings.HasPrefix(l, "\t") {
			continue
		}
		var b strings.Builder
		for _, r := range lines[i+1:] {
			if !strings.HasPrefix(r, "\t") {
				break
			}
			r = strings.TrimSpace(r)
			b.WriteString(strings.TrimSuffix(r, "\\"))
			b.WriteByte(' ')
		}
		return strings.TrimSpace(b.String()), true
	}
	return "", false
}

// BasicSeriesUpperBound is the most custom metrics (name and dimension
// values) the basic level can create: each basic set's dimensions can take
// only the fixed values of pkg/class (categories, auth types). It returns -1
// if a basic set has a dimension without a fixed value list.
func BasicSeriesUpperBound() int {
	total := 0
	for _, s := range metric.Catalog {
		for _, set := range s.Sets {
			if set.Level != metric.Basic {
				continue
			}
			n := 1
			for _, d := range set.Names {
				switch d {
				case metric.DimCategory:
					c := len(CategoryNames())
					if s.Name == metric.Errors {
						c-- // not published for "other"
					}
					n *= c
				case metric.DimAuthType:
					n *= len(AuthTypes)
				case metric.DimSeverity:
					n *= len(finding.Severities())
				default:
					return -1
				}
			}
			total += n
		}
	}
	return total
}

// LateDataWindow is the least look-back of an alarm on a metric the function
// publishes: those metrics are dated by the records' and objects' own time,
// CloudTrail delivers a file up to 15 minutes after its events, and a file
// retried (or replayed from the dead-letter queue) is published later still.
const LateDataWindow = 30 * 60

// CheckLateData checks that an alarm on the function's own metrics (a
// MetricName alarm in namespace, or a metric-math alarm reading them) looks
// back at least LateDataWindow seconds, and, when it fires on a datapoint
// (a Greater* comparison or an anomaly band), that fewer datapoints than
// periods are enough, so a late datapoint landing anywhere in the window
// still counts. An alarm that fires on silence (LessThan*) needs every
// period of its window to be silent.
func CheckLateData(p map[string]any, namespace string) error {
	onOwn := scalarString(p["Namespace"]) == namespace
	period := atoiOr(p["Period"], 0)
	for _, q := range asList(p["Metrics"]) {
		ms := asMap(asMap(q)["MetricStat"])
		if scalarString(asMap(ms["Metric"])["Namespace"]) == namespace {
			onOwn = true
			period = atoiOr(ms["Period"], 0)
		}
	}
	if !onOwn {
		return nil
	}
	n := atoiOr(p["EvaluationPeriods"], 0)
	m := atoiOr(p["DatapointsToAlarm"], n)
	if period*n < LateDataWindow {
		return fmt.Errorf("alarm on an object-dated metric looks back %d s (Period %d x EvaluationPeriods %d), want at least %d s: a late file's datapoint would be missed", period*n, period, n, LateDataWindow)
	}
	op := scalarString(p["ComparisonOperator"])
	if strings.HasPrefix(op, "LessThan") {
		if m != n {
			return fmt.Errorf("silence alarm: DatapointsToAlarm %d of %d; every period must be silent", m, n)
		}
		return nil
	}
	if m >= n {
		return fmt.Errorf("alarm on an object-dated metric needs %d of %d datapoints: use fewer datapoints than periods so a late datapoint anywhere in the window counts", m, n)
	}
	return nil
}

func atoiOr(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	case string:
		var n int
		if _, err := fmt.Sscan(x, &n); err == nil {
			return n
		}
	}
	return def
}

var compositeTerm = regexp.MustCompile(`^(ALARM|OK|INSUFFICIENT_DATA)\("([^"]+)"\)$`)

// ParseAlarmRule parses the composite alarm rules this template uses:
// STATE("alarm") terms joined by AND.
func ParseAlarmRule(rule string) (terms [][2]string, err error) {
	for _, t := range strings.Split(rule, " AND ") {
		m := compositeTerm.FindStringSubmatch(strings.TrimSpace(t))
		if m == nil {
			return nil, fmt.Errorf("AlarmRule %q: term %q is not STATE(\"alarm\") (only AND is supported here)", rule, t)
		}
		terms = append(terms, [2]string{m[1], m[2]})
	}
	return terms, nil
}

// checkCompositeAlarm: the rule names alarms of this stack, and the
// composite notifies.
func (st *Stack) checkCompositeAlarm(p map[string]any) error {
	terms, err := ParseAlarmRule(scalarString(p["AlarmRule"]))
	if err != nil {
		return err
	}
	for _, t := range terms {
		if !st.isRefOf(t[1], "AWS::CloudWatch::Alarm") {
			return fmt.Errorf("AlarmRule names %q, not an alarm of this stack", t[1])
		}
	}
	if len(asList(p["AlarmActions"])) == 0 {
		return fmt.Errorf("composite alarm without AlarmActions")
	}
	return nil
}

func (st *Stack) isRefOf(v, typ string) bool {
	for _, id := range st.ofType(typ) {
		if v == RefOf(id) {
			return true
		}
	}
	return false
}

// FunctionEnvironment returns the environment variables the template gives
// the metric-publishing function in this stack, as Lambda would set them:
// variables that evaluate to AWS::NoValue are absent, and every value is a
// string. Refs to the stack's own resources stay placeholders (RefOf); the
// caller substitutes the names it created.
func (st *Stack) FunctionEnvironment() map[string]string {
	vars := asMap(asMap(st.Resources[st.FunctionID]["Environment"])["Variables"])
	env := make(map[string]string, len(vars))
	for k, v := range vars {
		env[k] = scalarString(v)
	}
	return env
}
