package emf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// EMF limits.
const (
	// MaxValuesPerMetric is the most values one metric may have in one line.
	MaxValuesPerMetric = 100
	// MaxMetricsPerLine is the most metric definitions in one directive.
	MaxMetricsPerLine = 100
	// batchDatums is how many datums make one resumable batch: EMF has no
	// request limit, this only sets the granularity of progress.
	batchDatums = 1000
)

// Options configure a Writer. The zero value uses the defaults.
type Options struct {
	// Namespace is the CloudWatch namespace; empty means
	// metric.DefaultNamespace.
	Namespace string
	// Age drops datums CloudWatch would refuse for their timestamp.
	Age sink.AgeFilter
}

// Writer writes datums as EMF lines.
type Writer struct {
	w    io.Writer
	opts Options
}

// New returns a Writer writing to w (os.Stdout in Lambda). Each line is
// written with one Write call.
func New(w io.Writer, opts *Options) *Writer {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = metric.DefaultNamespace
	}
	return &Writer{w: w, opts: o}
}

// Batches cuts a file's datums, as they are produced, into batches of lines.
func (e *Writer) Batches(datums iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return sink.Batches(datums, batchDatums, int(^uint(0)>>1), func(*metric.Datum) int { return 0 })
}

// Publish writes one batch.
func (e *Writer) Publish(ctx context.Context, batch []metric.Datum) (sink.Stats, error) {
	kept, dropped := e.opts.Age.Keep(batch)
	st := sink.Stats{Dropped: dropped}
	lines := Lines(e.opts.Namespace, kept)
	var buf bytes.Buffer
	for _, l := range lines {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		buf.Reset()
		if err := l.encode(&buf); err != nil {
			return st, err
		}
		if _, err := e.w.Write(buf.Bytes()); err != nil {
			return st, fmt.Errorf("emf: write: %w", err)
		}
		st.Requests++
	}
	st.Sent = len(kept)
	return st, nil
}

// Line is one EMF document: metrics sharing a timestamp and dimensions.
type Line struct {
	Timestamp  int64 // Unix milliseconds
	Namespace  string
	Dimensions []metric.Dimension
	Metrics    []Metric
}

// Metric is one metric's values in a line.
type Metric struct {
	Name   string
	Unit   metric.Unit
	Values []float64
}

// Lines turns datums into EMF lines, in the datums' order.
func Lines(namespace string, datums []metric.Datum) []Line {
	var lines []Line
	open := make(map[string]int) // group -> index of its newest line
	for i := range datums {
		d := &datums[i]
		group := groupKey(d)
		for _, vals := range values(d) {
			li, ok := open[group]
			if ok && (len(lines[li].Metrics) == MaxMetricsPerLine || slices.ContainsFunc(lines[li].Metrics, func(m Metric) bool { return m.Name == d.Name })) {
				ok = false
			}
			if !ok {
				lines = append(lines, Line{Timestamp: d.Timestamp.UnixMilli(), Namespace: namespace, Dimensions: d.Dimensions})
				li = len(lines) - 1
				open[group] = li
			}
			lines[li].Metrics = append(lines[li].Metrics, Metric{Name: d.Name, Unit: d.Unit, Values: vals})
		}
	}
	return lines
}

func groupKey(d *metric.Datum) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", d.Timestamp.UnixMilli())
	for _, dim := range d.Dimensions {
		b.WriteByte(0)
		b.WriteString(dim.Name)
		b.WriteByte(0)
		b.WriteString(dim.Value)
	}
	return b.String()
}

// values returns the datum's values as EMF can carry them, in chunks of at
// most MaxValuesPerMetric.
func values(d *metric.Datum) [][]float64 {
	if d.Unit == metric.Count {
		return [][]float64{{d.Sum()}}
	}
	var out [][]float64
	var cur []float64
	for i, v := range d.Values {
		for range int(d.Counts[i]) {
			cur = append(cur, v)
			if len(cur) == MaxValuesPerMetric {
				out = append(out, cur)
				cur = nil
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []metricDefn `json:"Metrics"`
}

type metricDefn struct {
	Name string `json:"Name"`
	Unit string `json:"Unit,omitempty"`
}

// encode writes the line as one JSON object and a newline. Members are
// written in a fixed order so output is deterministic.
func (l *Line) encode(w *bytes.Buffer) error {
	names := make([]string, len(l.Dimensions))
	for i, d := range l.Dimensions {
		names[i] = d.Name
	}
	dir := directive{Namespace: l.Namespace, Dimensions: [][]string{names}}
	for _, m := range l.Metrics {
		dir.Metrics = append(dir.Metrics, metricDefn{Name: m.Name, Unit: string(m.Unit)})
	}
	meta, err := json.Marshal(struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}{l.Timestamp, []directive{dir}})
	if err != nil {
		return err
	}
	w.WriteString(`{"_aws":`)
	w.Write(meta)
	for _, d := range l.Dimensions {
		if err := member(w, d.Name, d.Value); err != nil {
			return err
		}
	}
	for _, m := range l.Metrics {
		var v any = m.Values
		if len(m.Values) == 1 {
			v = m.Values[0]
		}
		if err := member(w, m.Name, v); err != nil {
			return err
		}
	}
	w.WriteString("}\n")
	return nil
}

func member(w *bytes.Buffer, k string, v any) error {
	kb, _ := json.Marshal(k)
	vb, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.WriteByte(',')
	w.Write(kb)
	w.WriteByte(':')
	w.Write(vb)
	return nil
}
