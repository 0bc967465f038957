package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

type fakeAPI struct {
	calls []*cw.PutMetricDataInput
	err   error
}

func (f *fakeAPI) PutMetricData(_ context.Context, in *cw.PutMetricDataInput, _ ...func(*cw.Options)) (*cw.PutMetricDataOutput, error) {
	f.calls = append(f.calls, in)
	return &cw.PutMetricDataOutput{}, f.err
}

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func datums(n int) []metric.Datum {
	out := make([]metric.Datum, n)
	for i := range out {
		out[i] = metric.Datum{
			Name:       metric.Events,
			Dimensions: []metric.Dimension{{Name: metric.DimCategory, Value: "user-pool-api"}, {Name: metric.DimOperation, Value: "Op" + strconv.Itoa(i)}},
			Timestamp:  now.Add(-time.Duration(i) * time.Minute).Truncate(time.Minute),
			Unit:       metric.Count,
			Values:     []float64{1},
			Counts:     []float64{float64(i + 1)},
		}
	}
	return out
}

func TestRequestsPerFile(t *testing.T) {
	for _, n := range []int{1, 999, 1000, 1001, 2500, 10000} {
		api := &fakeAPI{}
		p := New(api, &Options{Age: sink.AgeFilter{Now: func() time.Time { return now }, MaxAge: -1}})
		ds := datums(n)
		var st sink.Stats
		for b := range p.Batches(slices.Values(ds)) {
			s, err := p.Publish(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			st.Add(s)
		}
		want := (n + MaxDatumsPerRequest - 1) / MaxDatumsPerRequest
		if len(api.calls) != want || st.Requests != want || st.Sent != n {
			t.Errorf("%d datums: %d requests (stats %+v), want %d", n, len(api.calls), st, want)
		}
		var sum float64
		for _, c := range api.calls {
			if *c.Namespace != metric.DefaultNamespace {
				t.Fatalf("namespace %q", *c.Namespace)
			}
			for _, d := range c.MetricData {
				for i := range d.Values {
					sum += d.Values[i] * d.Counts[i]
				}
			}
		}
		if want := float64(n*(n+1)) / 2; sum != want {
			t.Errorf("%d datums: sum %v, want %v", n, sum, want)
		}
	}
}

func TestMaxDatums(t *testing.T) {
	for _, tc := range []struct{ max, n, want int }{
		{7, 20, 3}, {7, 21, 3}, {1, 3, 3},
		{0, 1001, 2}, {-1, 1001, 2}, {MaxDatumsPerRequest + 1, 1001, 2}, // the default
	} {
		p := New(&fakeAPI{}, &Options{MaxDatums: tc.max})
		var sizes []int
		for b := range p.Batches(slices.Values(datums(tc.n))) {
			sizes = append(sizes, len(b))
		}
		limit := tc.max
		if limit <= 0 || limit > MaxDatumsPerRequest {
			limit = MaxDatumsPerRequest
		}
		if len(sizes) != tc.want || slices.Max(sizes) > limit {
			t.Errorf("MaxDatums %d, %d datums: requests of %v, want %d", tc.max, tc.n, sizes, tc.want)
		}
	}
}

func TestBatchesStayUnderTheSizeLimit(t *testing.T) {
	// 150 values per datum: about 7 KB each in awsQuery, so 1000 of them
	// would be far over 1 MB.
	ds := datums(1000)
	for i := range ds {
		ds[i].Name = metric.DeliveryLagSeconds
		ds[i].Values, ds[i].Counts = nil, nil
		for v := range metric.MaxValuesPerDatum {
			ds[i].Values = append(ds[i].Values, float64(100000+v))
			ds[i].Counts = append(ds[i].Counts, 12345)
		}
	}
	p := New(&fakeAPI{}, nil)
	batches := slices.Collect(p.Batches(slices.Values(ds)))
	if len(batches) < 2 {
		t.Fatalf("%d batches", len(batches))
	}
	for _, b := range batches {
		if got := querySize(b); got > MaxRequestBytes {
			t.Errorf("batch of %d datums encodes to %d bytes", len(b), got)
		}
	}
}

// querySize encodes a batch as awsQuery would, to check the estimate.
func querySize(b []metric.Datum) int {
	v := url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {metric.DefaultNamespace}}
	for i, d := range b {
		p := fmt.Sprintf("MetricData.member.%d.", i+1)
		v.Set(p+"MetricName", d.Name)
		v.Set(p+"Timestamp", d.Timestamp.Format(time.RFC3339))
		v.Set(p+"Unit", string(d.Unit))
		for j := range d.Values {
			v.Set(fmt.Sprintf("%sValues.member.%d", p, j+1), strconv.FormatFloat(d.Values[j], 'g', -1, 64))
			v.Set(fmt.Sprintf("%sCounts.member.%d", p, j+1), strconv.FormatFloat(d.Counts[j], 'g', -1, 64))
		}
		for j, dim := range d.Dimensions {
			v.Set(fmt.Sprintf("%sDimensions.member.%d.Name", p, j+1), dim.Name)
			v.Set(fmt.Sprintf("%sDimensions.member.%d.Value", p, j+1), dim.Value)
		}
	}
	return len(v.Encode())
}

func TestOldDatumsAreDroppedNotSent(t *testing.T) {
	api := &fakeAPI{}
	p := New(api, &Options{Namespace: "Test", Age: sink.AgeFilter{Now: func() time.Time { return now }}})
	ds := datums(3)
	ds[1].Timestamp = now.Add(-15 * 24 * time.Hour)
	st, err := p.Publish(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dropped != 1 || st.Sent != 2 || len(api.calls[0].MetricData) != 2 || *api.calls[0].Namespace != "Test" {
		t.Fatalf("stats %+v, %d datums sent", st, len(api.calls[0].MetricData))
	}
	// A batch of only old datums makes no request.
	api.calls = nil
	st, err = p.Publish(context.Background(), ds[1:2])
	if err != nil || len(api.calls) != 0 || st.Dropped != 1 {
		t.Fatalf("stats %+v, err %v, %d calls", st, err, len(api.calls))
	}
}

func TestErrorIsReturned(t *testing.T) {
	api := &fakeAPI{err: errors.New("throttled")}
	p := New(api, &Options{Age: sink.AgeFilter{Now: func() time.Time { return now }}})
	st, err := p.Publish(context.Background(), datums(1))
	if err == nil || st.Sent != 0 || st.Requests != 0 {
		t.Fatalf("stats %+v, err %v", st, err)
	}
}

func TestConvert(t *testing.T) {
	d := datums(1)[0]
	c := convert(&d)
	if aws.ToString(c.MetricName) != d.Name || len(c.Dimensions) != 2 || aws.ToString(c.Dimensions[1].Value) != "Op0" ||
		string(c.Unit) != "Count" || !c.Timestamp.Equal(d.Timestamp) || c.Counts[0] != 1 {
		t.Fatalf("%+v", c)
	}
}

// TestValidationErrorsArePermanent: CloudWatch's 4xx validation errors mark
// the batch rejected (sink.ErrRejected, Stats.Rejected); throttling, access
// denied, 5xx and network errors stay plain errors, for the caller to retry.
func TestValidationErrorsArePermanent(t *testing.T) {
	for _, c := range []struct {
		err      error
		rejected bool
	}{
		{&types.InvalidParameterValueException{Message: aws.String("The value Init\ufffdAuth for parameter MetricData.member.1.Dimensions.member.2.Value is invalid.")}, true},
		{&types.InvalidParameterCombinationException{}, true},
		{&types.MissingRequiredParameterException{}, true},
		{&smithy.GenericAPIError{Code: "InvalidParameterValue", Fault: smithy.FaultClient}, true},
		{&smithy.GenericAPIError{Code: "InvalidParameterCombination"}, true},
		{&smithy.GenericAPIError{Code: "MissingParameter"}, true},
		{&smithy.GenericAPIError{Code: "InvalidParameterInput"}, true},
		{&smithy.GenericAPIError{Code: "Throttling", Fault: smithy.FaultClient}, false},
		{&smithy.GenericAPIError{Code: "AccessDenied", Fault: smithy.FaultClient}, false},
		{&types.InternalServiceFault{}, false},
		{&types.LimitExceededException{}, false},
		{errors.New("connection reset"), false},
	} {
		api := &fakeAPI{err: c.err}
		p := New(api, &Options{Age: sink.AgeFilter{Now: func() time.Time { return now }}})
		st, err := p.Publish(context.Background(), datums(3))
		if err == nil || !errors.Is(err, c.err) {
			t.Fatalf("%T: error %v does not wrap the API's", c.err, err)
		}
		if got := errors.Is(err, sink.ErrRejected); got != c.rejected {
			t.Errorf("%T %v: rejected %v, want %v", c.err, c.err, got, c.rejected)
		}
		if want := map[bool]int{true: 3}[c.rejected]; st.Rejected != want || st.Sent != 0 {
			t.Errorf("%T: stats %+v, want Rejected %d", c.err, st, want)
		}
	}
}
