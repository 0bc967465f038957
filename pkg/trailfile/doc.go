// Package trailfile reads CloudTrail log files: `{"Records":[...]}`,
// gzip-compressed or plain, as a stream of records.
//
// Like archive/tar, it is a pull API: call Next until it returns io.EOF.
// The file is never read whole: decompressed input passes through a buffer
// that holds about one record (it grows only for an unusually large record,
// up to Options.MaxRecordBytes), and each record is decoded in one pass into
// a narrow record.Record.
//
// Errors name the file, the record index and the uncompressed byte offset.
// A record that is unusable, malformed or longer than Options.MaxRecordBytes
// is reported with ErrBadRecord and reading goes on at the next record (how
// the reader finds it again after damage is explained in resync.go); a file
// that is corrupt, truncated, too large or not a trail file ends with an
// *Error wrapping one of the package's sentinel errors, after every good
// record before the fault has been returned. A CloudTrail digest
// file is recognised and reported as ErrDigest so callers can skip it.
package trailfile
