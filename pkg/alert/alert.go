package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
)

// MaxSubject is the longest subject sent. SNS's Publish reference: "Subjects
// must be UTF-8 text with no line breaks or control characters, and less
// than 100 characters long"; e-mail clients show ASCII best, so the subject
// is kept to printable ASCII too.
const MaxSubject = 99

// API is the part of the SNS client a Notifier uses.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Dedup remembers which findings were sent (ledger.Notices).
type Dedup interface {
	// First records that the finding is being sent, by the caller until
	// until (its own lease): false when it was sent, an error (transient)
	// while another sender holds it. The token, returned with an error
	// too, goes to Sent or Failed.
	First(ctx context.Context, eventID, name string, until time.Time) (token string, first bool, err error)
	// Sent records that it was sent.
	Sent(ctx context.Context, eventID, name, token string) error
	// Failed records that sending it failed, so that a later pass may.
	Failed(ctx context.Context, eventID, name, token string) error
}

// Options configure a Notifier.
type Options struct {
	// TopicARN is the SNS topic (required).
	TopicARN string
	// MinSeverity: findings below it are not sent; zero means High.
	MinSeverity finding.Severity
	// Dedup, when set, makes each finding sent once.
	Dedup Dedup
}

// Notifier publishes findings. It is safe for concurrent use.
type Notifier struct {
	api  API
	opts Options
}

// New returns a Notifier on api (an *sns.Client, built once).
func New(api API, opts Options) *Notifier {
	if opts.MinSeverity == 0 {
		opts.MinSeverity = finding.High
	}
	return &Notifier{api: api, opts: opts}
}

// Stats counts what Notify did.
type Stats struct {
	Sent, Duplicates, Below int
	// Unmarked counts messages sent whose item could not be marked sent.
	Unmarked int
}

// Notify sends each finding at or above the severity that was not sent
// before, holding each (see Dedup) until until. It goes on after a
// failure, so that one failing finding does not hold the others back, and
// returns the failures joined, marked permanent (package fault) when no
// retry can cure any of them.
func (n *Notifier) Notify(ctx context.Context, fs []finding.Finding, until time.Time) (Stats, error) {
	var st Stats
	var errs []error
	for i := range fs {
		f := &fs[i]
		if f.Severity < n.opts.MinSeverity {
			st.Below++
			continue
		}
		dedup := n.opts.Dedup != nil && f.EventID != ""
		var tok string
		if dedup {
			var first bool
			var err error
			tok, first, err = n.opts.Dedup.First(ctx, f.EventID, f.Name, until)
			if err != nil {
				if tok != "" {
					// The item may be ours (the answer lost): released, a
					// retry need not wait for the lease.
					_ = n.opts.Dedup.Failed(ctx, f.EventID, f.Name, tok)
				}
				errs = append(errs, fmt.Errorf("notify: %s %s: %w", f.Name, f.EventID, err))
				continue
			}
			if !first {
				st.Duplicates++
				continue
			}
		}
		if err := n.publish(ctx, f); err != nil {
			if dedup {
				if ferr := n.opts.Dedup.Failed(ctx, f.EventID, f.Name, tok); ferr != nil {
					err = errors.Join(err, ferr)
				}
			}
			errs = append(errs, fmt.Errorf("notify: %s %s: %w", f.Name, f.EventID, err))
			continue
		}
		st.Sent++
		if dedup {
			// The message is out: a failure here must not make the caller
			// send it again. Left "sending", the item is taken over only
			// after the lease, by a later delivery of the same record.
			if err := n.opts.Dedup.Sent(ctx, f.EventID, f.Name, tok); err != nil {
				st.Unmarked++
			}
		}
	}
	err := errors.Join(errs...)
	if refused(err) {
		return st, fault.Mark(err)
	}
	return st, err
}

// permanentCodes are SNS's answers that no retry cures: the topic, its key
// or the function's grant must be fixed. Throttling, 5xx and network
// errors are not among them.
var permanentCodes = map[string]bool{
	"InvalidParameter": true, "InvalidParameterValue": true, "NotFound": true, "AuthorizationError": true,
	"KMSDisabled": true, "KMSInvalidState": true, "KMSNotFound": true, "KMSOptInRequired": true,
	"KMSAccessDenied": true, "InvalidSecurity": true, "EndpointDisabled": true,
}

// refused reports whether every failure in err is one a retry cannot
// cure. The caller fails its work for the others, so that the retry sends
// what was not sent.
func refused(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !refused(e) {
				return false
			}
		}
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && permanentCodes[api.ErrorCode()]
}

func (n *Notifier) publish(ctx context.Context, f *finding.Finding) error {
	body, err := Body(f)
	if err != nil {
		return err
	}
	_, err = n.api.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(n.opts.TopicARN),
		Subject:  aws.String(Subject(f)),
		Message:  aws.String(string(body)),
		// For subscription filter policies (a pager for high only, a
		// ticket queue for the rest).
		MessageAttributes: map[string]types.MessageAttributeValue{
			"severity": {DataType: aws.String("String"), StringValue: aws.String(f.Severity.String())},
			"finding":  {DataType: aws.String("String"), StringValue: aws.String(f.Name)},
		},
	})
	return err
}

// message is the JSON body: the finding as `cognitrail findings` prints
// it, plus the pool in one field.
type message struct {
	finding.Finding
	Pool string `json:"pool,omitempty"`
}

// Body returns the JSON body of f's message. It holds the finding's fields
// only, which never include tokens, secrets or user names.
func Body(f *finding.Finding) ([]byte, error) {
	return json.Marshal(message{Finding: *f, Pool: Pool(f)})
}

// Pool names f's user or identity pool.
func Pool(f *finding.Finding) string {
	if f.UserPoolID != "" {
		return f.UserPoolID
	}
	return f.IdentityPoolID
}

// Subject returns "HIGH <finding> <pool> by <actor>", printable ASCII, at
// most MaxSubject bytes: the pool is cut at its end and the actor in its
// middle (the ARN's partition and account go before the principal's name)
// when the whole does not fit.
func Subject(f *finding.Finding) string {
	head := ascii(strings.ToUpper(f.Severity.String()) + " " + f.Name)
	pool := ascii(Pool(f))
	actor := ascii(f.Actor)
	join := func(pool, actor string) string {
		s := head
		if pool != "" {
			s += " " + pool
		}
		if actor != "" {
			s += " by " + actor
		}
		return s
	}
	s := join(pool, actor)
	if len(s) <= MaxSubject {
		return s
	}
	const poolKeep = 16
	if len(pool) > poolKeep+3 {
		pool = pool[:poolKeep] + "..."
	}
	if s = join(pool, actor); len(s) <= MaxSubject {
		return s
	}
	if room := len(actor) - (len(s) - MaxSubject); room >= 12 {
		actor = elide(actor, room)
	} else {
		actor = ""
	}
	if s = join(pool, actor); len(s) <= MaxSubject {
		return s
	}
	return s[:MaxSubject]
}

// elide keeps s's head and tail within n bytes (n >= 4).
func elide(s string, n int) string {
	tail := (n - 3) * 2 / 3
	return s[:n-3-tail] + "..." + s[len(s)-tail:]
}

// ascii replaces every byte outside printable ASCII with '?': SNS refuses
// control characters and line breaks, and the subject must stay one line.
func ascii(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
