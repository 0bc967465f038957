package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// bulk are the everyday records of a file.
var bulk = []string{
	"idp-signup", "idp-forgotpassword", "identity-getid-data", "hostedui-login-get",
	"idp-admininitiateauth-success", "idp-initiateauth-notauthorized", "idp-respondtoauthchallenge-success",
	"identity-getcredentialsforidentity-unauth-data", "managedlogin-login-post-failed-assembled",
}

// clientOnly are the bulk records that name an app client but not its
// pool (the others teach the pair).
var clientOnly = []string{"idp-signup", "idp-forgotpassword", "idp-respondtoauthchallenge-success", "idp-initiateauth-notauthorized", "identity-getid-data"}

type findingKey struct{ eventID, name string }

// record makes one record from a template: its own time (a second of its
// own in the run, so lines can be told apart), event id and, where given,
// source address and identity pool.
func (w *World) record(tmpl string, at time.Time, ip, identityPool string, set ...func(map[string]any)) json.RawMessage {
	raw, ok := w.cfg.Templates[tmpl]
	if !ok {
		panic("sim: no template " + tmpl)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	m["eventTime"] = at.UTC().Format(time.RFC3339)
	m["eventID"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", w.rng.Uint32(), w.rng.Int63()&0xffffffffffff)
	m["recipientAccountId"] = account
	m["awsRegion"] = "us-east-1"
	if ip != "" {
		m["sourceIPAddress"] = ip
	}
	if identityPool != "" {
		for _, k := range []string{"requestParameters", "responseElements"} {
			if p, ok := m[k].(map[string]any); ok {
				p["identityPoolId"] = identityPool
			}
		}
	}
	for _, f := range set {
		f(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// file makes the records of one trail file starting at t.
func (w *World) file(t time.Time, clock *time.Time) []json.RawMessage {
	next := func() time.Time { *clock = clock.Add(time.Second); return *clock }
	var recs []json.RawMessage
	for range 3 + w.rng.Intn(25) {
		recs = append(recs, w.record(bulk[w.rng.Intn(len(bulk))], next(), "", ""))
	}
	if w.rng.Intn(3) == 0 {
		// A password-guessing run from one address: a high finding.
		ip := fmt.Sprintf("203.0.113.%d", 1+w.rng.Intn(250))
		for range finding.DefaultSignInThreshold + w.rng.Intn(5) {
			recs = append(recs, w.record("idp-initiateauth-notauthorized", next(), ip, ""))
		}
	}
	if w.rng.Intn(3) == 0 {
		// A new identity pool with guest access: a high finding whatever
		// the state, since the pool is new.
		pool := fmt.Sprintf("us-east-1:%08x-49a6-454b-9e45-%012x", w.rng.Uint32(), w.rng.Int63()&0xffffffffffff)
		recs = append(recs, w.record("old-1.03-identity-createidentitypool", next(), "", pool))
	}
	w.rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

// scenario writes the run's trail files.
func (w *World) scenario() {
	clock := start.Add(-2 * time.Hour)
	n := 2 + w.rng.Intn(6)
	for i := range n {
		t := start.Add(-time.Hour + time.Duration(i)*5*time.Minute)
		w.put(trailKey(i, t), w.file(t, &clock), t.Add(5*time.Minute))
	}
	w.recordClock = clock
	if w.rng.Intn(2) == 0 {
		w.configStory(n + 1)
	}
	if w.rng.Intn(3) == 0 {
		// A file delivered late whose records span hours, the oldest at the
		// edge of what CloudWatch accepts: its datums need several requests,
		// and what is too old depends on when it is read.
		t := start.Add(-sink.DefaultMaxAge + 5*time.Minute)
		var recs []json.RawMessage
		// Half the time without the record that names an app client's
		// pool: its client-only records then count under ClientId or the
		// pool as the environment knows the pair, which may change
		// between two attempts at this file (published in several
		// requests): a retry must resolve as the first attempt did.
		kinds := bulk
		if w.rng.Intn(2) == 0 {
			kinds = clientOnly
			w.trace(nil, "the long file names no app client's pool")
		}
		for i := range 150 + w.rng.Intn(150) {
			recs = append(recs, w.record(kinds[w.rng.Intn(len(kinds))], t.Add(time.Duration(i)*time.Minute), "", ""))
		}
		w.put(trailKey(n, t), recs, start)
	}
}

// put stores a file and remembers the version its notification names.
func (w *World) put(key string, recs []json.RawMessage, at time.Time) *objectVersion {
	body := gz(recs)
	v := w.s3.Put(key, body, at)
	ov := &objectVersion{key: key, versionID: v.ID, etag: v.ETag, body: body, at: at}
	for _, r := range recs {
		var id struct {
			EventID string `json:"eventID"`
		}
		if json.Unmarshal(r, &id) == nil {
			w.eventVersion[id.EventID] = ov
		}
	}
	ov.must = w.mustFind(body)
	w.versions = append(w.versions, ov)
	w.trace(nil, "put %s (%s %s): %d records, %d findings due", key[len(key)-16:], v.ID, v.ETag[:8], len(recs), len(ov.must))
	return ov
}

// mustFind scans a file alone with a new state and keeps the findings that
// do not depend on the state.
func (w *World) mustFind(body []byte) []findingKey {
	var out []findingKey
	eng := finding.New(&finding.Options{State: finding.NewMemoryState()})
	_, err := scan.File(context.Background(), bytesReader(body), aggregate.New(nil), &scan.Options{
		Now:      func() time.Time { return start },
		Findings: eng,
		OnRecord: func(ev *scan.Event) {
			for _, f := range ev.Findings {
				// A create raises whatever the state; an update only on a
				// transition (the configuration story checks those).
				create := ev.Record.EventName == "CreateIdentityPool"
				if f.Severity == finding.High && (f.Name == finding.SignInFailuresFromOneIP || f.Name == finding.IdentityPoolGuestAccessEnabled && create) {
					out = append(out, findingKey{f.EventID, f.Name})
				}
			}
		},
	})
	if err != nil {
		panic(err)
	}
	return out
}

// initialQueue announces every version, some twice (S3 delivers at least
// once), in an order drawn from the seed.
func (w *World) initialQueue() []message {
	var q []message
	for _, v := range w.versions {
		q = append(q, w.message(v))
		if w.rng.Intn(6) == 0 {
			q = append(q, w.message(v))
		}
	}
	w.rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	return q
}

func (w *World) message(v *objectVersion) message {
	w.msgSeq++
	return message{id: fmt.Sprintf("msg-%d", w.msgSeq), v: v}
}

// mutate sometimes overwrites or deletes an object between two rounds:
// an unversioned overwrite makes the version a pending notification names
// unreadable.
func (w *World) mutate(q []message) []message {
	v := w.versions[w.rng.Intn(len(w.versions))]
	if v.story {
		return q
	}
	switch r := w.rng.Intn(20); {
	case r == 0:
		t := v.at.Add(time.Minute)
		nv := w.put(v.key, w.file(t, &w.recordClock), w.now)
		q = append(q, w.message(nv))
	case r == 1:
		w.trace(nil, "delete %s %s", v.key[len(v.key)-16:], v.versionID)
		w.s3.Delete(v.key, v.versionID)
	}
	return q
}

// storyRecord is one change of a setting in the run's configuration story.
type storyRecord struct {
	eventID string
	at      time.Time
	guest   bool
	v       *objectVersion
}

// configStory writes a few changes of one identity pool's guest access,
// each in a trail file of its own (announced, like every file, in an order
// drawn from the seed): what a change raises must not depend on the order
// the files are read in, once the changes before it are known.
func (w *World) configStory(n int) {
	pool := fmt.Sprintf("us-east-1:%08x-5555-4555-8555-%012x", w.rng.Uint32(), w.rng.Int63()&0xffffffffffff)
	t := start.Add(-90 * time.Minute)
	for i := range 3 + w.rng.Intn(3) {
		t = t.Add(time.Duration(1+w.rng.Intn(20)) * time.Minute)
		guest := w.rng.Intn(2) == 0
		var eventID string
		rec := w.record("identity-updateidentitypool", t, "", pool, func(m map[string]any) {
			for _, k := range []string{"requestParameters", "responseElements"} {
				if p, ok := m[k].(map[string]any); ok {
					p["allowUnauthenticatedIdentities"] = guest
				}
			}
			eventID = m["eventID"].(string)
		})
		v := w.put(trailKey(n+i, t), []json.RawMessage{rec}, t.Add(5*time.Minute))
		v.story = true
		w.story = append(w.story, storyRecord{eventID: eventID, at: t, guest: guest, v: v})
	}
}
