// Package trailgen generates realistic CloudTrail log files for benchmarks
// and large-file tests: a mix of record shapes and sizes (about 2 KB on
// average) in which, as in a real account trail, most records are not
// Cognito activity. Output is deterministic for a seed.
package trailgen
