package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ocsf"
	"github.com/cognitrail/cognitrail/pkg/posture"
	"github.com/cognitrail/cognitrail/pkg/securityhub"
)

const postureSynopsis = `cognitrail posture [flags]
Reads the Cognito configuration as it is now (user pools, app clients,
identity pools) and the Region's trails, and lists the risky settings with
the Security Hub CSPM control each fails, and what no trail records. Exit 1
when a Region could not be read (the others are).`

type postureConfig struct {
	format      *choice
	regions     string
	securityHub bool
	rps         float64
}

func newPostureFlags() (*flag.FlagSet, *postureConfig) {
	fl := flag.NewFlagSet("posture", flag.ContinueOnError)
	c := &postureConfig{format: newChoice("table", "table", "json", "jsonl", "ocsf")}
	fl.Var(c.format, "format", "output: `table`, json (one array), jsonl (one row per line) or ocsf (OCSF Detection Findings, one per line)")
	fl.StringVar(&c.regions, "region", "", "`Regions` to read, comma-separated (default: the configured Region)")
	fl.BoolVar(&c.securityHub, "security-hub", false, "import the rows into Security Hub (BatchImportFindings) and archive, as resolved, those of an earlier run no longer found")
	fl.Float64Var(&c.rps, "requests-per-second", posture.DefaultRequestsPerSecond, "`rate` of Cognito read calls per Region")
	return fl, c
}

// product names cognitrail in OCSF metadata.
func product() ocsf.Product {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return ocsf.Product{Name: "cognitrail", VendorName: "cognitrail", Version: v}
}

func runPosture(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, cfg := newPostureFlags()
	if code, ok := parseFlags(fl, postureSynopsis, args, stdout, stderr); !ok {
		return code
	}
	if fl.NArg() > 0 {
		return usageError(stderr, fl, postureSynopsis, "no PATH is read: posture asks the Cognito APIs (got %q)", fl.Arg(0))
	}
	if cfg.rps <= 0 {
		return usageError(stderr, fl, postureSynopsis, "--requests-per-second %v: want a positive rate", cfg.rps)
	}
	awsCfg, err := lambdaapp.LoadAWSConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "cognitrail posture:", err)
		return exitFailed
	}
	var regions []string
	for _, r := range strings.Split(cfg.regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			regions = append(regions, r)
		}
	}
	if len(regions) == 0 && awsCfg.Region != "" {
		regions = []string{awsCfg.Region}
	}
	if len(regions) == 0 {
		return usageError(stderr, fl, postureSynopsis, "no Region: set AWS_REGION or --region")
	}
	id, err := sts.NewFromConfig(awsCfg, func(o *sts.Options) { o.Region = regions[0] }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(stderr, "cognitrail posture: whose account (sts:GetCallerIdentity):", err)
		return exitFailed
	}
	account := aws.ToString(id.Account)
	now := time.Now().UTC().Truncate(time.Second)

	var rows []posture.Row
	failed := false
	for _, region := range regions {
		in := func(o *cip.Options) { o.Region = region }
		got, err := posture.Read(ctx, cip.NewFromConfig(awsCfg, in), ci.NewFromConfig(awsCfg, func(o *ci.Options) { o.Region = region }),
			posture.Options{Account: account, Region: region, RequestsPerSecond: cfg.rps, Now: func() time.Time { return now }})
		partial := errors.Is(err, posture.ErrUnjudged)
		if err != nil {
			failed = true
			fmt.Fprintln(stderr, "cognitrail posture:", err)
			if !partial {
				// A Region whose resources were not all listed is left out.
				continue
			}
		}
		_, cov, cerr := posture.ReadCoverage(ctx, cloudtrail.NewFromConfig(awsCfg, func(o *cloudtrail.Options) { o.Region = region }),
			posture.Options{Account: account, Region: region, Now: func() time.Time { return now }})
		if cerr != nil {
			failed, partial = true, true
			fmt.Fprintln(stderr, "cognitrail posture: trail coverage not judged:", cerr)
		}
		got = append(got, cov...)
		rows = append(rows, got...)
		if cfg.securityHub {
			// Resolving needs every setting judged: a setting not read is
			// not a setting made safe.
			if err := importPosture(ctx, securityhub.New(sh.NewFromConfig(awsCfg, func(o *sh.Options) { o.Region = region }), 0),
				account, region, got, now, !partial, stderr); err != nil {
				failed = true
				fmt.Fprintln(stderr, "cognitrail posture:", err)
			}
		}
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(out)
	switch cfg.format.value {
	case "json":
		if rows == nil {
			rows = []posture.Row{}
		}
		enc.SetIndent("", "  ")
		_ = enc.Encode(rows)
	case "jsonl":
		for _, r := range rows {
			_ = enc.Encode(r)
		}
	case "ocsf":
		p := product()
		for _, r := range rows {
			_ = enc.Encode(ocsf.FromPosture(r, p))
		}
	default:
		writePosture(out, rows)
	}
	return finished(stderr, "posture", out, nil, failed)
}

func importPosture(ctx context.Context, im *securityhub.Importer, account, region string, rows []posture.Row, now time.Time, resolve bool, stderr io.Writer) error {
	n, resolved, err := im.ImportPosture(ctx, account, region, rows, resolve, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cognitrail posture: %s: %d findings imported into Security Hub, %d resolved\n", region, n, resolved)
	return nil
}

func writePosture(w io.Writer, rows []posture.Row) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no risky setting")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tFINDING\tCONTROL\tREGION\tRESOURCE\tSETTING\tVALUE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Severity, r.Finding, dash(r.Control), r.Region, r.Resource, dash(r.Setting), dash(r.Value))
	}
	tw.Flush()
}

// importFindings imports change and attack findings, each into its own
// Region's Security Hub.
func importFindings(ctx context.Context, awsCfg aws.Config, fs []finding.Finding) (int, error) {
	byRegion := map[string][]shtypes.AwsSecurityFinding{}
	var order []string
	for _, f := range fs {
		if _, ok := byRegion[f.Region]; !ok {
			order = append(order, f.Region)
		}
		byRegion[f.Region] = append(byRegion[f.Region], securityhub.FromFinding(f))
	}
	total := 0
	for _, region := range order {
		n, err := securityhub.New(sh.NewFromConfig(awsCfg, func(o *sh.Options) { o.Region = region }), 0).Import(ctx, byRegion[region])
		total += n
		if err != nil {
			return total, fmt.Errorf("%s: %w", region, err)
		}
	}
	return total, nil
}
