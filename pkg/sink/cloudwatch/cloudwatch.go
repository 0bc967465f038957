package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// PutMetricData's limits.
const (
	// MaxDatumsPerRequest is the number of datums one request may carry.
	MaxDatumsPerRequest = 1000
	// MaxRequestBytes is the request size limit (HTTP POST, before any
	// compression).
	MaxRequestBytes = 1 << 20
	// requestBudget leaves room for the request envelope and headers under
	// MaxRequestBytes, and for the estimate being an estimate.
	requestBudget = MaxRequestBytes * 9 / 10
)

// API is the part of the CloudWatch client the publisher uses.
type API interface {
	PutMetricData(ctx context.Context, in *cw.PutMetricDataInput, optFns ...func(*cw.Options)) (*cw.PutMetricDataOutput, error)
}

// Options configure a Publisher. The zero value uses the defaults.
type Options struct {
	// Namespace is the CloudWatch namespace; empty means
	// metric.DefaultNamespace.
	Namespace string
	// Age drops datums CloudWatch would refuse for their timestamp.
	Age sink.AgeFilter
	// MaxDatums caps the datums of one request; zero or more than
	// MaxDatumsPerRequest means MaxDatumsPerRequest. Smaller requests
	// put more resume points in a file (the simulation draws them).
	MaxDatums int
}

// Publisher sends datums to CloudWatch.
type Publisher struct {
	api  API
	opts Options
}

// New returns a Publisher using api (a *cloudwatch.Client, built once).
func New(api API, opts *Options) *Publisher {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = metric.DefaultNamespace
	}
	if o.MaxDatums <= 0 || o.MaxDatums > MaxDatumsPerRequest {
		o.MaxDatums = MaxDatumsPerRequest
	}
	return &Publisher{api: api, opts: o}
}

// Batches cuts a file's datums, as they are produced, into requests.
func (p *Publisher) Batches(datums iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return sink.Batches(datums, p.opts.MaxDatums, requestBudget, Size)
}

// Publish sends one batch (as cut by Batches) in one request.
func (p *Publisher) Publish(ctx context.Context, batch []metric.Datum) (sink.Stats, error) {
	kept, dropped := p.opts.Age.Keep(batch)
	st := sink.Stats{Dropped: dropped}
	if len(kept) == 0 {
		return st, nil
	}
	in := &cw.PutMetricDataInput{
		Namespace:  aws.String(p.opts.Namespace),
		MetricData: make([]types.MetricDatum, len(kept)),
	}
	for i := range kept {
		in.MetricData[i] = convert(&kept[i])
	}
	if _, err := p.api.PutMetricData(ctx, in); err != nil {
		if invalid(err) {
			st.Rejected = len(kept)
			return st, fmt.Errorf("cloudwatch: PutMetricData (%d datums): %w: %w", len(kept), sink.ErrRejected, err)
		}
		return st, fmt.Errorf("cloudwatch: PutMetricData (%d datums): %w", len(kept), err)
	}
	st.Requests, st.Sent = 1, len(kept)
	return st, nil
}

// validationCodes are the error codes by which CloudWatch says a request is
// invalid (PutMetricData's documented errors and the common ones), as the
// query protocols name them and, with the Exception suffix, as the JSON and
// CBOR protocols' __type names them. Throttling, access denied and 5xx are
// not among them: a retry or a fixed policy can cure those.
var validationCodes = map[string]bool{
	"InvalidParameterValue":                true,
	"InvalidParameterValueException":       true,
	"InvalidParameterCombination":          true,
	"InvalidParameterCombinationException": true,
	"MissingParameter":                     true,
	"MissingRequiredParameterException":    true,
	"InvalidParameterInput":                true,
	"ValidationError":                      true,
	"ValidationException":                  true,
}

// invalid reports an error by which CloudWatch refused the request's
// content: permanent, the same request is refused again.
func invalid(err error) bool {
	var (
		v *types.InvalidParameterValueException
		c *types.InvalidParameterCombinationException
		m *types.MissingRequiredParameterException
	)
	if errors.As(err, &v) || errors.As(err, &c) || errors.As(err, &m) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && validationCodes[api.ErrorCode()]
}

func convert(d *metric.Datum) types.MetricDatum {
	out := types.MetricDatum{
		MetricName: aws.String(d.Name),
		Timestamp:  aws.Time(d.Timestamp),
		Unit:       types.StandardUnit(d.Unit),
		Values:     d.Values,
		Counts:     d.Counts,
	}
	if len(d.Dimensions) > 0 {
		out.Dimensions = make([]types.Dimension, len(d.Dimensions))
		for i, dim := range d.Dimensions {
			out.Dimensions[i] = types.Dimension{Name: aws.String(dim.Name), Value: aws.String(dim.Value)}
		}
	}
	return out
}

// Size estimates the bytes a datum adds to a request in the most verbose of
// the wire protocols (awsQuery: every field is a form parameter named
// MetricData.member.N.Field, values percent-encoded). It only has to be an
// upper bound for batches to stay under the limit.
func Size(d *metric.Datum) int {
	const member = len("&MetricData.member.1000.")
	n := member + len("MetricName=") + len(d.Name) +
		member + len("Timestamp=2006-01-02T15%3A04%3A05Z") +
		member + len("Unit=") + len(d.Unit) +
		member + len("StorageResolution=60")
	for i := range d.Values {
		n += member + len("Values.member.150=") + floatLen(d.Values[i])
		n += member + len("Counts.member.150=") + floatLen(d.Counts[i])
	}
	for _, dim := range d.Dimensions {
		// Percent-encoding at most triples a byte.
		n += member + len("Dimensions.member.30.Name=") + 3*len(dim.Name)
		n += member + len("Dimensions.member.30.Value=") + 3*len(dim.Value)
	}
	return n
}

func floatLen(f float64) int { return len(strconv.FormatFloat(f, 'g', -1, 64)) }
