package templatecheck

import (
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
)

// TestFindingsTopicPatternMatchesTheFunction: the FindingsTopicArn
// parameter's AllowedPattern is the function's own FINDINGS_TOPIC_ARN
// pattern (or empty), so a FIFO topic, which refuses every publish without
// a message group, fails the deployment rather than every notification,
// and the two cannot drift apart: the template accepts exactly the
// non-empty ARNs the function accepts at start-up.
func TestFindingsTopicPatternMatchesTheFunction(t *testing.T) {
	tpl := load(t)
	if p, want := tpl.Parameters["FindingsTopicArn"].AllowedPattern, "^$|"+lambdaapp.FindingsTopicARNPattern; p != want {
		t.Errorf("FindingsTopicArn AllowedPattern %q, want %q (lambdaapp.FindingsTopicARNPattern or empty)", p, want)
	}
	accepts := func(arn string) bool {
		_, err := lambdaapp.ConfigFromEnv(func(k string) string {
			if k == lambdaapp.EnvFindingsTopicARN {
				return arn
			}
			return ""
		})
		return err == nil
	}
	cases := []string{
		"arn:aws:sns:us-east-1:123456789012:findings",
		"arn:aws:sns:us-east-1:123456789012:findings.fifo",
		"arn:aws-us-gov:sns:us-gov-west-1:123456789012:Findings_2",
		"arn:aws-cn:sns:cn-north-1:123456789012:f-1",
		"arn:aws:sns:us-east-1:12345678901:findings",
		"arn:aws:sns:us-east-1:123456789012:",
		"arn:aws:sqs:us-east-1:123456789012:findings",
		"arn:aws:sns:us-east-1:123456789012:findings:sub-id",
		"arn:aws:sns:us-east-1:123456789012:" + strings.Repeat("x", 256),
		"arn:aws:sns:us-east-1:123456789012:" + strings.Repeat("x", 257),
		"findings",
		" arn:aws:sns:us-east-1:123456789012:findings",
	}
	re := patternMatchesFunction(t, tpl, "FindingsTopicArn", cases, accepts)
	if re.MatchString("arn:aws:sns:us-east-1:123456789012:findings.fifo") {
		t.Error("the pattern accepts a FIFO topic")
	}
	if !re.MatchString("") {
		t.Error("the pattern refuses the empty default")
	}
}
