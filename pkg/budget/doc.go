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
// Memory is the in-process implementation: the bound holds per process, so
// in the CLI for one run, and in the Lambda per execution environment (each
// concurrent environment, and each cold start, has its own budget: the
// distinct values a month are at most the bound times the environments that
// ran). A store shared by every environment (the ledger table) would make
// the bound global, and would let a file resumed in another environment be
// folded as in the first (its batches then line up with those published);
// that is not built yet. Buffered batches (package processor) do not need
// it to resume: the batch item records the values folded
// (aggregate.Folded), and a resumed batch replays them
// (aggregate.SetFolded) instead of asking its environment's budget again.
package budget
