// Package item names the items of cognitrail's one DynamoDB table (the
// idempotency table, EnableIdempotency): its key and TTL attributes and
// each kind of item's key prefix, in one place, so that no two kinds
// collide and a new kind is added here, not found by reading five
// packages. It imports nothing, so that every package writing the table
// (ledger, budget, clientpool) can name its items without importing the
// others.
//
// The kinds, their writers and how long DynamoDB keeps them after their
// last write (the TTL attribute):
//
//	kind     key                                     writer              kept
//	object   "<bucket>"/"<key>"/<identity>           ledger.Claim        ledger.DefaultRetention (30 days)
//	batch    batch#<id>                              ledger.ClaimBatch   ledger.DefaultRetention
//	notice   finding#<eventID>#<finding>             ledger.Notices      ledger.DefaultRetention
//	setting  setting#<account>/<resource>/<setting>  ledger.Settings     ledger.DefaultSettingRetention (400 days)
//	series   series#<month>#<dimension>              budget.Dynamo       budget.Retention (40 days)
//	client   client#<region>#<clientId>              clientpool          clientpool.DefaultTTL (30 days)
package item

// Attributes every item has.
const (
	// AttrKey is the table's string partition key.
	AttrKey = "pk"
	// AttrExpiresAt is the table's TTL attribute, Unix seconds.
	AttrExpiresAt = "expiresAt"
)

// Key prefixes, one per kind of item. An object's item has none: its key
// starts with a quote (ledger.ObjectID), which no prefix does.
const (
	BatchPrefix   = "batch#"
	SettingPrefix = "setting#"
	NoticePrefix  = "finding#"
	SeriesPrefix  = "series#"
	ClientPrefix  = "client#"
)

// Prefixes are the key prefixes, for the test that holds them apart.
var Prefixes = []string{BatchPrefix, SettingPrefix, NoticePrefix, SeriesPrefix, ClientPrefix}
