// Package budget bounds the distinct values of a dimension that get their
// own series in a calendar month (UTC), so that thousands of pools, sprayed
// app client ids or new error codes cannot turn into thousands of custom
// metrics a month: CloudWatch bills each series that receives a datum in a
// month.
//
// The first values of a month keep their series for the rest of that month,
// file after file (the busiest first within a file, ties by value); once the
// month's budget of a dimension is spent, new values are folded by
// pkg/aggregate into the value "other" (aggregate.OtherValue).
//
// # Where the state lives
//
// Dynamo keeps it in the ledger table (the function with IDEMPOTENCY_TABLE
// set), shared by every execution environment: the bound is per table, so
// per account and deployment. One item per month and dimension,
// "series#<month>#<dimension>" (ItemKey), holds the admitted values as a
// string set (a value longer than 64 bytes, empty or not UTF-8 as "#" and a
// SHA-256 prefix: StoredValue), the month's bound ("limit", fixed by the
// month's first admission, so that environments configured differently
// decide alike; a new MAX_SERIES_PER_DIMENSION applies from the next
// month) and the TTL 40 days after the month's end (Retention). A bound
// above MaxDynamoLimit is refused: the item must fit DynamoDB's 400 KB.
//
// Admission is one conditional UpdateItem on that item: ADD the new values
// if the set, with them, stays within the bound ("size(values) <= limit -
// n"), or create the item if none exists. DynamoDB applies it atomically
// with respect to every other write to the item, so concurrent environments
// never admit more than the bound; a failed condition means another
// environment wrote, and the item is read again (consistently) before
// anything is decided.
//
// Memory keeps it in the process: the CLI's `scan` for one run, and the
// function with idempotency off, per execution environment (each concurrent
// environment, and each cold start, has its own budget: the distinct values
// a month are at most the bound times the environments that ran).
//
// # Why a resumed file is folded as before (exactly once)
//
// The ledger resumes an interrupted file at its first unpublished batch,
// which is right only if the retry cuts the same batches, so it must fold
// the same values into "other". A decision is only ever read off the
// item's state, and that state only moves one way within a month: a value
// in the set stays in it (nothing removes one before the TTL, past any
// resume), and a set at its bound never takes another value (the condition
// forbids it, and the bound is the item's own). So "admitted" (the value
// is in the set) and "other" (it is not, and the set is full) are both
// final once seen, in any environment: a retry, here or elsewhere, decides
// every value of the file as the first attempt did. A value another
// environment admitted meanwhile is seen as admitted by both (the read
// after a failed condition, or the set UpdateItem returns, includes it).
// Nothing else is decided: a value not in the set while the set has room is
// admitted (written) first. An error leaves the file undecided: nothing is
// published, and the retry decides afresh. The environment caches exactly
// these two final facts, so a warm environment makes no request for values
// it has seen or once a month is full.
//
// A buffered batch (package processor) resumed in another environment
// does not even ask: its batch item records the values folded
// (aggregate.Folded), and the resume replays them (aggregate.SetFolded),
// which are the decisions Dynamo would give again.
//
// Without the ledger (Memory in the function) there is no resume: a retried
// file is published again from its first batch whatever happens (see
// package processor), so folding it differently cannot double or drop a
// count beyond what the missing ledger already allows.
//
// # Requests
//
// Per file, per month and budgeted dimension present in it: none in a warm
// environment once its values are known or the month is full; one
// consistent GetItem the first time an environment meets the month and
// dimension; one UpdateItem when it brings values not yet admitted while
// the month has room (plus a GetItem when another environment wrote
// first). The first file of a month therefore makes a GetItem and an
// UpdateItem per dimension, at most 7 of each (the five budgeted dimensions,
// and the budgets of their own pkg/aggregate gives identity-pool role calls'
// operations and error codes); a steady month none.
// GetItem and UpdateItem are the ledger's own calls, already granted.
package budget
