package templatecheck

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/docs"
)

// CloudWatch list prices (us-east-1) the README's cost section uses: a
// standard-resolution alarm is billed per metric it evaluates ($0.10), an
// anomaly detection alarm evaluates 3 (the metric and the band's two
// bounds), a composite alarm is $0.50.
const (
	standardAlarmPrice  = 0.10
	anomalyAlarmMetrics = 3
	compositeAlarmPrice = 0.50
)

// alarmCounts counts a scenario's alarms, the alarm metrics CloudWatch
// bills for the standard ones (a metric math alarm: each metric it reads),
// and the ones that notify (metric alarms with actions and composite
// alarms).
func alarmCounts(t *testing.T, tpl *Template, s Scenario) (standard, metrics, anomaly, composite, notifying int) {
	t.Helper()
	st := evaluated(t, tpl, s)
	for _, id := range st.ofType("AWS::CloudWatch::Alarm") {
		p := st.Resources[id]
		if p["ThresholdMetricId"] != nil {
			anomaly++
		} else {
			standard++
			n := 0
			for _, m := range asList(p["Metrics"]) {
				if asMap(m)["MetricStat"] != nil {
					n++
				}
			}
			metrics += max(n, 1)
		}
		if len(asList(p["AlarmActions"])) > 0 {
			notifying++
		}
	}
	composite = len(st.ofType("AWS::CloudWatch::CompositeAlarm"))
	return standard, metrics, anomaly, composite, notifying + composite
}

func alarmPrice(standard, anomaly, composite int) float64 {
	return float64(standard)*standardAlarmPrice + float64(anomaly*anomalyAlarmMetrics)*standardAlarmPrice + float64(composite)*compositeAlarmPrice
}

var (
	readmeAlarmRow = regexp.MustCompile(`\| Alarms: (\d+) standard \((\d+) alarm metrics\) \+ (\d+) anomaly detection \(3 metrics\) \+ (\d+) composite \(\$0\.50\) \| \$(\d+\.\d\d) \| \$(\d+\.\d\d) \|`)
	readmeBuffered = regexp.MustCompile("`Delivery=buffered` adds (\\d+) standard alarms \\(\\$(\\d+\\.\\d\\d)")
	readmeDiagram  = regexp.MustCompile(`CloudWatch: (\d+) alarms \((\d+) with Delivery=buffered\)`)
	dollars        = regexp.MustCompile(`\$(\d+(?:\.\d+)?)`)
)

// TestREADMEAlarmsAndTotals: the cost section's alarm row counts the
// template's alarms (direct delivery, the defaults) at CloudWatch's prices,
// the buffered sentence the alarms buffered mode adds, the diagram the
// alarms that notify, and each column's total is the sum of its rows.
func TestREADMEAlarmsAndTotals(t *testing.T) {
	readme, err := docs.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	tpl := load(t)
	std, metrics, anom, comp, notify := alarmCounts(t, tpl, Scenario{})
	_, bmetrics, banom, bcomp, bnotify := alarmCounts(t, tpl, Scenario{"Delivery": "buffered"})
	if banom != anom || bcomp != comp {
		t.Fatalf("buffered mode changes the anomaly (%d, %d) or composite (%d, %d) alarms", anom, banom, comp, bcomp)
	}

	m := readmeAlarmRow.FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README cost table has no \"| Alarms: N standard (N alarm metrics) + N anomaly detection (3 metrics) + N composite ($0.50) | $x | $x |\" row")
	}
	price := strconv.FormatFloat(alarmPrice(metrics, anom, comp), 'f', 2, 64)
	if m[1] != strconv.Itoa(std) || m[2] != strconv.Itoa(metrics) || m[3] != strconv.Itoa(anom) || m[4] != strconv.Itoa(comp) || m[5] != price || m[6] != price {
		t.Errorf("README alarms row %q; the template has %d standard (%d alarm metrics), %d anomaly, %d composite: $%s", m[0], std, metrics, anom, comp, price)
	}
	m = readmeBuffered.FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README has no \"`Delivery=buffered` adds N standard alarms ($x\" sentence")
	}
	if added := bmetrics - metrics; m[1] != strconv.Itoa(added) || m[2] != strconv.FormatFloat(alarmPrice(added, 0, 0), 'f', 2, 64) {
		t.Errorf("README says buffered adds %s alarms ($%s); the template adds %d", m[1], m[2], added)
	}
	m = readmeDiagram.FindStringSubmatch(readme)
	if m == nil || m[1] != strconv.Itoa(notify) || m[2] != strconv.Itoa(bnotify) {
		t.Errorf("README diagram %q; %d alarms notify, %d with Delivery=buffered", m, notify, bnotify)
	}

	// The cost table: each row's first dollar figure per column adds up to
	// the column's "≈ $N" total, rounded to the dollar.
	start := strings.Index(readme, "| Item | basic | standard |")
	if start < 0 {
		t.Fatal("README has no cost table")
	}
	var sums [2]float64
	var totals [2]string
	for _, line := range strings.Split(readme[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("cost row %q has %d cells", line, len(cells))
		}
		for i, c := range cells[1:] {
			d := dollars.FindStringSubmatch(c)
			if d == nil {
				t.Fatalf("cost row %q: no dollar figure in %q", line, c)
			}
			if strings.Contains(cells[0], "Total") {
				totals[i] = d[1]
				continue
			}
			v, _ := strconv.ParseFloat(d[1], 64)
			sums[i] += v
		}
	}
	for i, col := range []string{"basic", "standard"} {
		if want := strconv.Itoa(int(math.Round(sums[i]))); totals[i] != want {
			t.Errorf("%s total $%s, the rows add up to $%.2f", col, totals[i], sums[i])
		}
	}
}
