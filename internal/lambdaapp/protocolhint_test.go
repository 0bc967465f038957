package lambdaapp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// An endpoint that answers CloudWatch in another protocol (moto_server
// answers the SDK's CBOR with XML) gives an error that says which
// CLOUDWATCH_PROTOCOL to try, not only the decoder's "unexpected minor
// value 28"; the error is still the SDK's deserialization error.
func TestCloudWatchProtocolHint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<!DOCTYPE HTML><title>404 Not Found</title>"))
	}))
	defer srv.Close()
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	nop := func() aws.Retryer { return aws.NopRetryer{} }
	for _, tc := range []struct{ protocol, want string }{
		{"", "(the answer is not cbor: an endpoint that is not CloudWatch, such as moto_server, may need CLOUDWATCH_PROTOCOL=json or query)"},
		{ProtocolCBOR, "CLOUDWATCH_PROTOCOL=json or query)"},
		{ProtocolJSON, "(the answer is not json: an endpoint that is not CloudWatch, such as moto_server, may need CLOUDWATCH_PROTOCOL=cbor or query)"},
	} {
		_, err := newCloudWatchClient(tc.protocol, awsCfg, nop).PutMetricData(context.Background(), &cw.PutMetricDataInput{
			Namespace:  aws.String("X"),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}},
		})
		var de *smithy.DeserializationError
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) || !errors.As(err, &de) {
			t.Errorf("protocol %q: %v\nwant a deserialization error ending %q", tc.protocol, err, tc.want)
		}
	}
	// Other errors are not touched.
	other := errors.New("throttled")
	if got := protocolHint(ProtocolCBOR, other); got != other {
		t.Errorf("protocolHint changed %v into %v", other, got)
	}
}
