package templatecheck

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// simAlarm evaluates a metric alarm the way CloudWatch documents it ("How
// CloudWatch treats missing data"), on one metric sampled per minute:
// the last EvaluationPeriods periods, a period missing when no datapoint
// fell in it; notBreaching and breaching fill missing periods, ignore keeps
// the state when every period is missing, missing turns it to
// INSUFFICIENT_DATA. A new alarm starts in INSUFFICIENT_DATA.
type simAlarm struct {
	period, n, m int // period in minutes
	threshold    float64
	op           string
	missing      string
	state        string
}

func newSimAlarm(t *testing.T, p map[string]any) *simAlarm {
	t.Helper()
	a := &simAlarm{period: atoiOr(p["Period"], 0) / 60, n: atoiOr(p["EvaluationPeriods"], 0), threshold: float64(atoiOr(p["Threshold"], 0)),
		op: scalarString(p["ComparisonOperator"]), missing: scalarString(p["TreatMissingData"]), state: "INSUFFICIENT_DATA"}
	a.m = atoiOr(p["DatapointsToAlarm"], a.n)
	if a.period <= 0 || a.n <= 0 {
		t.Fatalf("alarm %v: no period", p)
	}
	return a
}

func (a *simAlarm) breaches(v float64) bool {
	switch a.op {
	case "GreaterThanOrEqualToThreshold":
		return v >= a.threshold
	case "GreaterThanThreshold":
		return v > a.threshold
	case "LessThanThreshold":
		return v < a.threshold
	case "LessThanOrEqualToThreshold":
		return v <= a.threshold
	}
	panic("comparison " + a.op)
}

// eval evaluates at minute now over series (one value per minute, -1 for
// no datapoint).
func (a *simAlarm) eval(series []float64, now int) {
	breaching, present := 0, 0
	for k := 0; k < a.n; k++ {
		end := now - k*a.period
		sum, any := 0.0, false
		for i := end - a.period; i < end; i++ {
			if i >= 0 && i < len(series) && series[i] >= 0 {
				sum, any = sum+series[i], true
			}
		}
		switch {
		case any:
			present++
			if a.breaches(sum) {
				breaching++
			}
		case a.missing == "breaching":
			breaching++
		}
	}
	if present == 0 {
		switch a.missing {
		case "ignore":
			return
		case "missing", "":
			a.state = "INSUFFICIENT_DATA"
			return
		}
	}
	if breaching >= a.m {
		a.state = "ALARM"
	} else {
		a.state = "OK"
	}
}

// TestNoFilesProcessedAlarm: NoFilesProcessed stays quiet after deploy until
// the first file, and fires when files stop for NoFilesAlarmMinutes after
// they had been flowing (issue 7: it used to be in ALARM right after deploy).
func TestNoFilesProcessedAlarm(t *testing.T) {
	tpl := load(t)
	st, probs, err := tpl.Evaluate(Scenario{})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	silence := atoiOr(st.Env.Param("NoFilesAlarmMinutes"), 0)
	// state returns the state NoFilesProcessed reports, minute by minute,
	// for a FilesProcessed series.
	state := func(series []float64) []string {
		id := "NoFilesProcessedAlarm"
		p := st.Resources[id]
		var eval func(now int) string
		switch st.Types[id] {
		case "AWS::CloudWatch::Alarm":
			if scalarString(p["MetricName"]) != metric.FilesProcessed {
				t.Fatalf("%s is not on FilesProcessed", id)
			}
			a := newSimAlarm(t, p)
			eval = func(now int) string { a.eval(series, now); return a.state }
		case "AWS::CloudWatch::CompositeAlarm":
			terms, err := ParseAlarmRule(scalarString(p["AlarmRule"]))
			if err != nil {
				t.Fatal(err)
			}
			var parts []*simAlarm
			for _, term := range terms {
				ref := strings.TrimSuffix(strings.TrimPrefix(term[1], "{{"), "}}")
				q := st.Resources[ref]
				if scalarString(q["MetricName"]) != metric.FilesProcessed {
					t.Fatalf("%s is not on FilesProcessed", ref)
				}
				parts = append(parts, newSimAlarm(t, q))
			}
			eval = func(now int) string {
				all := true
				for i, a := range parts {
					a.eval(series, now)
					all = all && a.state == terms[i][0]
				}
				if all {
					return "ALARM"
				}
				return "OK"
			}
		default:
			t.Fatalf("%s: type %s", id, st.Types[id])
		}
		var out []string
		for now := 1; now <= len(series); now++ {
			out = append(out, eval(now))
		}
		return out
	}
	series := func(n int, f func(i int) float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = f(i)
		}
		return s
	}

	// Deployed, no file for 3 hours (a trail not yet delivering, a quiet
	// account): never ALARM.
	for i, s := range state(series(180, func(int) float64 { return -1 })) {
		if s == "ALARM" {
			t.Fatalf("ALARM at minute %d after deploy, before any file", i+1)
		}
	}
	// Files every 5 minutes for 2 hours, then none.
	stop := 120
	got := state(series(stop+silence+30, func(i int) float64 {
		if i < stop && i%5 == 0 {
			return 1
		}
		return -1
	}))
	for i, s := range got {
		min := i + 1
		switch {
		case min > 20 && min <= stop && s != "OK":
			t.Errorf("minute %d, files flowing: %s", min, s)
		case min < stop+silence-5 && s == "ALARM":
			t.Errorf("minute %d, %d minutes after the last file: ALARM before NoFilesAlarmMinutes=%d", min, min-stop, silence)
		case min > stop+silence+5 && s != "ALARM":
			t.Errorf("minute %d, %d minutes after the last file: %s, want ALARM", min, min-stop, s)
		}
	}
}

// TestAnomalyBandOnDenseSeries: the sign-in anomaly band is trained on and
// compared with FILL(failures, 0), not the sparse published points (issue
// 7), and the detector is the alarm's very expression (an alarm's band uses
// the detector of exactly its input).
func TestAnomalyBandOnDenseSeries(t *testing.T) {
	st, probs, err := load(t).Evaluate(Scenario{})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	queries := map[string]map[string]any{}
	for _, q := range asList(st.Resources["SignInFailuresAnomalousAlarm"]["Metrics"]) {
		queries[scalarString(asMap(q)["Id"])] = asMap(q)
	}
	band := queries[scalarString(st.Resources["SignInFailuresAnomalousAlarm"]["ThresholdMetricId"])]
	m := regexp.MustCompile(`^ANOMALY_DETECTION_BAND\((\w+),`).FindStringSubmatch(scalarString(band["Expression"]))
	if m == nil {
		t.Fatalf("band %v", band)
	}
	input := queries[m[1]]
	fill := regexp.MustCompile(`^FILL\((\w+), 0\)$`).FindStringSubmatch(scalarString(input["Expression"]))
	if fill == nil {
		t.Fatalf("the band's input %q is %v, want FILL(<SignInFailures>, 0): a sparse metric trains a band that never saw a zero", m[1], input)
	}
	raw := queries[fill[1]]
	if scalarString(asMap(asMap(raw["MetricStat"])["Metric"])["MetricName"]) != metric.SignInFailures {
		t.Fatalf("FILL of %v", raw)
	}
	det := asMap(st.Resources["SignInFailuresAnomalyDetector"]["MetricMathAnomalyDetector"])
	detQueries := asList(det["MetricDataQueries"])
	want := []any{raw, input}
	strip := func(v []any) string {
		var out []string
		for _, q := range v {
			q := asMap(q)
			out = append(out, scalarString(q["Id"])+"="+toJSON(q["MetricStat"])+scalarString(q["Expression"]))
		}
		return strings.Join(out, ";")
	}
	if strip(detQueries) != strip(want) {
		t.Errorf("detector trains on %s, the alarm compares %s", strip(detQueries), strip(want))
	}
}
