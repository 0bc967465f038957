package processor

import (
	"errors"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/notification"
)

func TestBatchResult(t *testing.T) {
	obj := notification.Object{Bucket: "b", Key: "AWSLogs/123456789012/CloudTrail/us-east-1/x.json.gz"}
	withObj := notification.Message{ID: "t", Objects: []notification.Object{obj}}
	for _, c := range []struct {
		name  string
		m     notification.Message
		tally taskTally
		skips int
		err   error
		want  string
	}{
		{"processed", withObj, taskTally{processed: 1}, 0, nil, BatchSucceeded},
		{"duplicate", withObj, taskTally{}, 1, nil, BatchSucceeded},
		{"digest", notification.Message{ID: "t", Skipped: []notification.Skip{{Object: obj, Reason: notification.ReasonDigest}}}, taskTally{}, 1, nil, BatchSucceeded},
		{"corrupt file", withObj, taskTally{failed: 1}, 0, nil, BatchPermanentFailure},
		{"transient", withObj, taskTally{}, 0, errors.New("s3: 503"), BatchTemporaryFailure},
		{"malformed task", notification.Message{ID: "t", Err: errors.New("no key")}, taskTally{}, 0, errors.New("no key"), BatchPermanentFailure},
		{"undecodable key", notification.Message{ID: "t", Skipped: []notification.Skip{{Object: obj, Reason: notification.ReasonUndecodable}}}, taskTally{}, 1, nil, BatchPermanentFailure},
	} {
		r := batchResult(c.m, c.tally, c.skips, c.err)
		if r.ResultCode != c.want || r.TaskID != "t" || r.ResultString == "" {
			t.Errorf("%s: %+v, want %s", c.name, r, c.want)
		}
	}
	long := errors.New(string(make([]byte, 4*maxResultString)))
	if r := batchResult(withObj, taskTally{}, 0, long); len(r.ResultString) != maxResultString {
		t.Errorf("result string of %d bytes", len(r.ResultString))
	}
}
