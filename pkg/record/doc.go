// Package record decodes single CloudTrail records into Record, a narrow
// struct of the fields the engine uses, in one pass over the record's bytes
// and without materialising anything else.
//
// Real records are messier than the documentation's tables, so the parser is
// tolerant where it can be: nested fields of an unexpected type are ignored,
// numbers are accepted where strings are expected (an HTTP status of
// 200.0), old records without eventCategory or readOnly parse, and pool ids
// are taken only when they have the documented shape, so Cognito's
// HIDDEN_DUE_TO_SECURITY_REASONS markers never become metric dimensions.
// The top-level members a record is classified and counted by (eventSource,
// eventName, errorCode, sourceIPAddress, ...) must be strings (or null, read
// as absent; readOnly may be a boolean): another type makes the record
// unusable (ErrFieldType, naming the member), since a numeric eventSource
// would otherwise be counted as some other service's call.
package record
