// Package jsonscan is a small, allocation-free JSON scanner over an
// in-memory buffer. It exists because CloudTrail files are large, almost
// entirely made of values the engine ignores, and encoding/json spends most of
// its time materialising them: skipping a value here is a bracket count and a
// SIMD search for the closing quote of each string.
//
// The scanner checks the structure it walks (brackets, strings, the commas
// and colons of the objects it iterates) but, inside a value it skips, only
// brackets and strings. It never panics on any input.
//
// Errors are sticky: after the first one every method returns zero values and
// Err reports it. ErrShort means the buffer ended inside a value: the caller
// may append more input and scan again from a saved position.
package jsonscan
