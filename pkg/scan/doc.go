// Package scan runs the engine over one trail file: read records
// (trailfile), classify them (class) and count them (aggregate). The Lambda
// and the CLI both call File, so they count the same way.
package scan
