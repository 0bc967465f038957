// Command samples writes the sample CloudTrail files in events/: the input of
// `make run` and of the report tests.
//
//	go run ./internal/samples -out events/trails
//
// The files must look like what CloudTrail really delivers, so the Cognito
// records start from the real-shaped records in pkg/class/testdata/aws (times,
// ids, addresses, pools and account varied), and most records are, as in a
// real account trail, other services' activity. Output is byte-for-byte
// reproducible (fixed seed, no clock, gzip headers without time or name) so
// a test can regenerate the files and catch a generator and its committed
// output drifting apart.
package main
