package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

func motoEnv(t *testing.T, srv *motoserver.Server) {
	pointAtMoto(t, srv.Endpoint)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// TestPostureCommandAgainstMoto: the command reads a risky pool from
// moto_server, lists it in every format, imports it into Security Hub
// once however often it runs, and exits 1 because moto_server cannot
// answer GetLogDeliveryConfiguration (the settings it could not judge are
// named, the others listed).
func TestPostureCommandAgainstMoto(t *testing.T) {
	srv := motoserver.StartT(t)
	motoEnv(t, srv)
	ctx := context.Background()
	idp := cip.NewFromConfig(srv.AWSConfig())
	p, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("risky"), MfaConfiguration: types.UserPoolMfaTypeOff})
	if err != nil {
		t.Fatal(err)
	}
	pool := aws.ToString(p.UserPool.Id)

	var rows []posture.Row
	for range 2 {
		var out, errb bytes.Buffer
		rc := run(ctx, []string{"posture", "--format", "jsonl", "--security-hub", "--requests-per-second", "1000"}, &out, &errb)
		if rc != exitFailed || !strings.Contains(errb.String(), "log delivery of "+pool) ||
			!strings.Contains(errb.String(), "findings imported into Security Hub") {
			t.Fatalf("exit %d, stderr %s", rc, errb.String())
		}
		rows = rows[:0]
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var r posture.Row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%v: %s", err, sc.Text())
			}
			rows = append(rows, r)
		}
	}
	found := map[string]string{}
	for _, r := range rows {
		if r.Resource == pool {
			found[r.Finding] = r.Control
		}
	}
	for name, control := range map[string]string{"user-pool-mfa-disabled": "Cognito.5", "user-pool-threat-protection-reduced": "Cognito.1", "user-pool-deletion-protection-disabled": "Cognito.6"} {
		if c, ok := found[name]; !ok || c != control {
			t.Errorf("%s: found %v, control %q", name, ok, c)
		}
	}
	if _, ok := found["user-pool-log-delivery-off"]; ok {
		t.Error("log delivery judged off though it could not be read")
	}
	hub, err := sh.NewFromConfig(srv.AWSConfig()).GetFindings(ctx, &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range hub.Findings {
		if strings.Contains(aws.ToString(f.Id), "/"+pool) {
			n++
		}
	}
	if n != len(found) {
		t.Errorf("%d Security Hub findings for the pool after two runs, want %d", n, len(found))
	}

	var out, errb bytes.Buffer
	if rc := run(ctx, []string{"posture", "--format", "ocsf", "--requests-per-second", "1000"}, &out, &errb); rc != exitFailed {
		t.Fatalf("ocsf: exit %d: %s", rc, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(rows) {
		t.Fatalf("%d OCSF lines for %d rows", len(lines), len(rows))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["class_uid"] != float64(2004) {
			t.Fatalf("OCSF line %s: %v", l, err)
		}
	}
}

func TestPostureUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		why  string
	}{
		{[]string{"posture", "events/trails"}, "no PATH is read"},
		{[]string{"posture", "--requests-per-second", "0"}, "want a positive rate"},
		{[]string{"posture", "--format", "xml"}, `invalid value "xml" for flag -format`},
	} {
		var out, errb bytes.Buffer
		if rc := run(context.Background(), tc.args, &out, &errb); rc != exitUsage || !strings.Contains(errb.String(), tc.why) {
			t.Errorf("%q: exit %d, stderr %s", tc.args, rc, errb.String())
		}
	}
}
