package templatecheck

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// TestNamespacePatternRefusesAWS: the Namespace parameter's AllowedPattern
// accepts exactly the namespaces of its character set that the function
// accepts at start-up (metric.CheckNamespace), so an AWS/ namespace fails
// the deployment rather than every file. Cases cover each branch of the
// pattern at the length limit, and random strings drawn mostly from the
// letters of "AWS/".
func TestNamespacePatternRefusesAWS(t *testing.T) {
	tpl := load(t)
	charset := regexp.MustCompile(`^[A-Za-z0-9_./#:-]*$`)
	want := func(ns string) bool { return charset.MatchString(ns) && metric.CheckNamespace(ns) == nil }
	cases := []string{"", "CognitoTrail", "AWS/Cognito", "AWS/", "AWS", "AW", "A", "AWSX", "AWX/", "AX", "aws/x", "B/AWS/",
		"My Namespace", "Ns!", metric.DefaultNamespace}
	for _, prefix := range []string{"", "A", "AW", "AWS", "AWS/", "B", "AX", "AWX", "AWS_"} {
		for _, n := range []int{254, 255, 256} {
			if n >= len(prefix) {
				cases = append(cases, prefix+strings.Repeat("x", n-len(prefix)))
			}
		}
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	alphabet := "AWS/AWS/AWS/aZ9_.#:- "
	for range 20000 {
		b := make([]byte, rnd.IntN(7))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	re := patternMatchesFunction(t, tpl, "Namespace", cases, want)
	if !re.MatchString(tpl.Parameters["Namespace"].Default) {
		t.Error("the default namespace does not match the pattern")
	}
}
