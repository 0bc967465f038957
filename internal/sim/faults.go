package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// Fault is what the scheduler does to one call.
type Fault int

const (
	// None: the call is answered.
	None Fault = iota
	// Throttle: refused before it applies, after the SDK's retries.
	Throttle
	// LostRetried: applied, its answer lost, and the SDK's retry sent the
	// same request again (which meets the first's effect). The caller
	// sees only the retry's answer: a correct caller cannot tell.
	LostRetried
	// Lost: applied, and every answer lost: the caller sees an error.
	Lost
	// CrashBefore: the process dies before the request is sent.
	CrashBefore
	// CrashAfter: the process dies after the request applied.
	CrashAfter
	numFaults
)

var faultNames = [...]string{"none", "throttle", "lost-retried", "lost", "crash-before", "crash-after"}

func (f Fault) String() string { return faultNames[f] }

// surfaced reports whether the fault shows the caller an error or stops it:
// the attempt may fail. The others must be invisible.
func (f Fault) surfaced() bool { return f != None && f != LostRetried }

// errThrottled is what a call refused by throttling returns.
var errThrottled = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded (sim)"}

// errLost is what a call whose every answer was lost returns.
var errLost = errors.New("sim: connection reset after the request was sent")

// crash is the panic value of a simulated process death.
type crash struct{ op string }

// call runs one call of attempt a through the scheduler and the fault it
// picks. apply does the call against the model; lost tells it that the
// caller will not see this application's answer (a PutMetricData or a
// Publish so applied may be sent again by a correct caller: the one
// window no protocol closes without the service's help).
func call[T any](ctx context.Context, w *World, op string, write bool, apply func(lost bool) (T, error)) (T, error) {
	a := attemptOf(ctx)
	f := w.yield(a, op, write)
	var zero T
	switch f {
	case Throttle:
		return zero, fmt.Errorf("%s: %w", op, errThrottled)
	case CrashBefore:
		panic(crash{op})
	}
	out, err := apply(f == LostRetried || f == Lost || f == CrashAfter)
	switch f {
	case LostRetried:
		if write {
			out, err = apply(false)
		}
	case Lost:
		return zero, fmt.Errorf("%s: %w", op, errLost)
	case CrashAfter:
		panic(crash{op})
	}
	return out, err
}

// faultDB is the table as one attempt's client sees it.
type faultDB struct{ w *World }

func (d faultDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call(ctx, d.w, "dynamodb.UpdateItem "+keyOf(in.Key), true, func(bool) (*dynamodb.UpdateItemOutput, error) {
		out, err := d.w.db.UpdateItem(ctx, in)
		if k, kerr := pk(in.Key); err == nil && kerr == nil && isUnit(k) {
			a := attemptOf(ctx)
			a.lastUnit = k
			if recordsProgress(in) && k == a.putUnit {
				a.lastPut = nil
			}
		}
		return out, err
	})
}

func (d faultDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(ctx, d.w, "dynamodb.PutItem "+keyOf(in.Item), true, func(bool) (*dynamodb.PutItemOutput, error) {
		return d.w.db.PutItem(ctx, in)
	})
}

func (d faultDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(ctx, d.w, "dynamodb.GetItem "+keyOf(in.Key), false, func(bool) (*dynamodb.GetItemOutput, error) {
		return d.w.db.GetItem(ctx, in)
	})
}

// isUnit reports whether k is the item of what is published as one: an
// object (direct) or a batch (buffered); not the state the handler keeps
// beside them.
func isUnit(k string) bool {
	for _, p := range []string{"setting#", "series#", "finding#", "client#"} {
		if strings.HasPrefix(k, p) {
			return false
		}
	}
	return true
}

// recordsProgress reports whether an update records what its caller
// published: a resume point, a batch published, an object done.
func recordsProgress(in *dynamodb.UpdateItemInput) bool {
	for _, n := range in.ExpressionAttributeNames {
		if n == "after" || n == "complete" || n == "outcome" {
			return true
		}
	}
	return false
}

func keyOf(m map[string]types.AttributeValue) string {
	if k, err := pk(map[string]types.AttributeValue{"pk": m["pk"]}); err == nil {
		if len(k) > 60 {
			// The head names the kind of item, the tail which one.
			return k[:16] + "..." + k[len(k)-36:]
		}
		return k
	}
	return "?"
}

type faultS3 struct{ w *World }

func (s faultS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return call(ctx, s.w, "s3.GetObject", false, func(bool) (*s3.GetObjectOutput, error) {
		out, err := s.w.s3.GetObject(ctx, in)
		if err == nil {
			s.w.everRead[aws.ToString(in.Key)+"|"+aws.ToString(out.VersionId)+"|"+strings.Trim(aws.ToString(out.ETag), `"`)] = true
		}
		return out, err
	})
}

type faultCW struct{ w *World }

func (c faultCW) PutMetricData(ctx context.Context, in *cw.PutMetricDataInput, o ...func(*cw.Options)) (*cw.PutMetricDataOutput, error) {
	return call(ctx, c.w, "cloudwatch.PutMetricData", true, func(lost bool) (*cw.PutMetricDataOutput, error) {
		if lost {
			c.w.lostPuts = append(c.w.lostPuts, in)
		}
		if len(sums([]*cw.PutMetricDataInput{in}, nil)) > 0 {
			// The skip counts an event publishes apart are not compared.
			a := attemptOf(ctx)
			if a.lastPut != nil {
				// Applied and never recorded (its progress write failed
				// and the attempt went on): a retry sends it again.
				c.w.lostPuts = append(c.w.lostPuts, a.lastPut)
			}
			a.lastPut, a.putUnit = in, a.lastUnit
		}
		return c.w.cw.PutMetricData(ctx, in)
	})
}

type faultSNS struct{ w *World }

func (s faultSNS) Publish(ctx context.Context, in *sns.PublishInput, o ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return call(ctx, s.w, "sns.Publish", true, func(lost bool) (*sns.PublishOutput, error) {
		if lost {
			s.w.lostPublishes = append(s.w.lostPublishes, in)
		}
		a := attemptOf(ctx)
		a.published = append(a.published, in)
		return s.w.sns.Publish(ctx, in)
	})
}
