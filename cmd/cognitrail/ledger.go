package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/ledger/ledgeradmin"
)

const ledgerResetSynopsis = `cognitrail ledger reset [flags] BUCKET KEY
Deletes the idempotency-table item of one object version, so that its next delivery
(cognitrail invoke, an S3 Batch Operations job, a replayed event) processes and counts it
again: after raising a limit, after a fix. The version is --version-id, else --etag, else
the object's current version (HeadObject). Refuses an object an invocation is processing.`

// ledgerResetConfig is what ledger reset's flags set.
type ledgerResetConfig struct {
	table, versionID, etag *string
}

func newLedgerResetFlags() (*flag.FlagSet, *ledgerResetConfig) {
	fl := flag.NewFlagSet("ledger reset", flag.ContinueOnError)
	c := &ledgerResetConfig{
		table:     fl.String("table", "", "the idempotency `table` (default $"+lambdaapp.EnvIdempotencyTable+")"),
		versionID: fl.String("version-id", "", "the object `version` to reset (a versioned bucket)"),
		etag:      fl.String("etag", "", "the object version's `ETag` (an unversioned bucket)"),
	}
	return fl, c
}

// runLedger runs `cognitrail ledger SUBCOMMAND`; reset is the one. Its
// flags may come anywhere, before the subcommand too, as any command's.
func runLedger(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, c := newLedgerResetFlags()
	if code, ok := parseFlags(fl, ledgerResetSynopsis, args, stdout, stderr); !ok {
		return code
	}
	envDefault(fl, "table", lambdaapp.EnvIdempotencyTable, c.table)
	switch {
	case fl.NArg() == 0:
		return usageError(stderr, fl, ledgerResetSynopsis, "no subcommand: want reset")
	case fl.Arg(0) != "reset":
		return usageError(stderr, fl, ledgerResetSynopsis, "unknown subcommand %q: want reset", fl.Arg(0))
	}
	return runLedgerReset(ctx, fl, c, fl.Args()[1:], stdout, stderr)
}

func runLedgerReset(ctx context.Context, fl *flag.FlagSet, c *ledgerResetConfig, args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		return usageError(stderr, fl, ledgerResetSynopsis, "want BUCKET KEY, got %d arguments", len(args))
	}
	if *c.table == "" {
		return usageError(stderr, fl, ledgerResetSynopsis, "no table: give --table or set IDEMPOTENCY_TABLE")
	}
	if *c.versionID != "" && *c.etag != "" {
		return usageError(stderr, fl, ledgerResetSynopsis, "give --version-id or --etag, not both")
	}
	bucket, key := args[0], args[1]
	fail := func(err error) int {
		fmt.Fprintf(stderr, "cognitrail ledger reset: s3://%s/%s: %v\n", bucket, key, err)
		return exitFailed
	}
	cfg, awsCfg, ok := loadConfig(ctx, "ledger reset", stderr)
	if !ok {
		return exitUsage
	}
	// The identity the function claims by (notification.Object.Identity):
	// the version id, else the ETag.
	identity := ""
	switch {
	case *c.versionID != "":
		identity = "v:" + *c.versionID
	case *c.etag != "":
		identity = "e:" + strings.Trim(*c.etag, `"`)
	default:
		s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3UsePathStyle })
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return fail(fmt.Errorf("no --version-id or --etag, and the current version is unknown: %w", err))
		}
		if v := aws.ToString(head.VersionId); v != "" && v != "null" {
			identity = "v:" + v
		} else {
			identity = "e:" + strings.Trim(aws.ToString(head.ETag), `"`)
		}
	}
	db := dynamodb.NewFromConfig(awsCfg)
	it, err := ledgeradmin.Reset(ctx, db, *c.table, ledger.ObjectID(bucket, key, identity), time.Now())
	if err != nil {
		if errors.Is(err, ledgeradmin.ErrNoItem) {
			err = fmt.Errorf("%w: nothing to reset (check the version, or it was never processed with this table)", err)
		}
		return fail(err)
	}
	state := "done (" + it.Outcome + ")"
	if !it.Done {
		state = "unfinished, no batch published"
	}
	fmt.Fprintf(stdout, "reset s3://%s/%s (%s) in %s: it was %s after %d attempt(s), %d batch(es); its next delivery processes it again\n",
		bucket, key, identity, *c.table, state, it.Attempts, it.Batches)
	return exitOK
}
