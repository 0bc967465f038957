package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/finding"
)

// FileRow is one input file of the page: read or skipped, and why.
type FileRow struct {
	Path    string
	Outcome string
	Records int
	Note    string
}

// HTML is what WriteHTML draws besides the page: the scan summary (as
// `cognitrail scan` prints it) and the files.
type HTML struct {
	Title   string
	Summary string
	Files   []FileRow
	// Generated is shown on the page; zero leaves it out (golden files).
	Generated time.Time
}

//go:embed page.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"chart":    chart,
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"settings": func(f finding.Finding) string { return finding.FormatSettings(f.Settings) },
	"pool": func(f finding.Finding) string {
		if f.UserPoolID != "" {
			return f.UserPoolID
		}
		return f.IdentityPoolID
	},
	"signal": func(i int) string { return SignalNames[i] },
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(pageTemplate))

// WriteHTML writes the page: one self-contained file, its charts inline
// SVG drawn here, its only script the table sorting, nothing fetched.
func (p *Page) WriteHTML(w io.Writer, h HTML) error {
	return page.Execute(w, struct {
		*Page
		HTML
		Colors [numSignals]string
	}{p, h, signalColors})
}

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH = 960, 180
	padL, padB     = 44, 22
)

var signalColors = [numSignals]string{"#c0392b", "#27ae60", "#8e44ad", "#2980b9"}

// chart draws one timeline: a line per signal, the findings as marks.
func chart(tl Timeline) template.HTML {
	peak := 1
	for _, pt := range tl.Points {
		for _, n := range pt {
			peak = max(peak, n)
		}
	}
	n := max(len(tl.Points)-1, 1)
	x := func(i int) float64 { return padL + float64(i)*float64(chartW-padL-8)/float64(n) }
	y := func(v int) float64 { return 8 + float64(chartH-padB-8)*(1-float64(v)/float64(peak)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" data-pool="%s" data-points="%d">`,
		chartW, chartH, template.HTMLEscapeString(tl.Pool), template.HTMLEscapeString(tl.Pool), len(tl.Points))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, chartH-padB, chartW-8, chartH-padB)
	fmt.Fprintf(&b, `<text x="4" y="14" class="tick">%d</text><text x="4" y="%d" class="tick">0</text>`, peak, chartH-padB)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick">%s</text>`, padL, chartH-4, tl.Start.UTC().Format("2006-01-02 15:04Z"))
	end := tl.Start.Add(time.Duration(len(tl.Points)) * tl.Step)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, chartW-8, chartH-4, end.UTC().Format("2006-01-02 15:04Z"))
	for s := range numSignals {
		var pts strings.Builder
		for i, pt := range tl.Points {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(pt[s]))
		}
		fmt.Fprintf(&b, `<polyline class="signal" data-signal="%s" data-sum="%d" fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`,
			SignalNames[s], tl.Sums[s], signalColors[s], strings.TrimSpace(pts.String()))
	}
	for _, f := range tl.Marks {
		i := int(f.Time.Sub(tl.Start) / tl.Step)
		fmt.Fprintf(&b, `<path class="mark" d="M%.1f,%d l-5,-9 h10 z"><title>%s %s %s</title></path>`,
			x(i), chartH-padB, f.Severity, template.HTMLEscapeString(f.Name), f.Time.UTC().Format(time.RFC3339))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
