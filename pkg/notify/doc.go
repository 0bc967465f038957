// Package notify sends findings to people: one Amazon SNS message per
// finding at or above a severity, with a subject read at a glance and the
// finding as a JSON body.
//
// Each finding is sent once per (eventID, finding name) when a Dedup is set
// (the ledger table's finding# items): a retried file, a duplicate
// notification of the same trail file, or the trail file that follows the
// EventBridge event of the same call, finds the item and sends nothing.
// The item is written before the message is published, and marked failed
// when publishing fails, so that a later pass may send it; a process that
// dies between the two loses that one message. Without a Dedup each
// evaluation of a record sends its findings: at least once per delivery.
package notify
