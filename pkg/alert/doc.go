// Package alert sends findings to people: one Amazon SNS message per
// finding at or above a severity, with a subject read at a glance and the
// finding as a JSON body.
//
// Each finding is sent once per (eventID, finding name) when a Dedup is set
// (the ledger table's finding# items): a retried file, a duplicate
// notification of the same trail file, or the trail file that follows the
// EventBridge event of the same call, finds the item and sends nothing.
// The item is taken ("sending", held until the caller's lease ends) before
// the message is published, marked sent once SNS accepted it, and failed
// when publishing failed, so that a later pass may send it; one whose
// sender died is taken over once its lease is over. Only a sender that dies
// after SNS accepted the message and before marking it sent has it sent
// twice. Without a Dedup each evaluation of a record sends its findings: at
// least once per delivery. Notify marks its error permanent (package fault)
// when every failure is a refusal no retry cures (the topic, its key, the
// grant); otherwise the caller should retry.
package alert
