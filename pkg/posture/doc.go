// Package posture reads the Cognito configuration of a Region as it is now
// and judges it with the finding catalog of package finding, so that a
// risky setting made before cognitrail was deployed is reported too: the
// state that no change event shows. Each user pool, app client and
// identity pool is turned into the Update call that would set its current
// configuration (the describe APIs return the request shapes), and a new
// finding engine, with no previous state, judges it: one rule per setting
// serves both the trail and the posture. A row names the Security Hub
// CSPM control it fails where one applies (Controls).
//
// Reading is paced (Options.RequestsPerSecond) and paginated; throttling
// is the SDK retryer's to retry. Nothing secret is read into a row: a
// client's secret is dropped before judging, and values Cognito hides stay
// hidden.
//
// In the function (the template's PostureSchedule), Scheduled runs a read
// with a Tracker: every value read is written into the finding state that
// the change findings use, dated when it was read, so that the next change
// has a true previous value, and the risky settings new to that state are
// notified once (the notices dedup, by an event id per run and resource);
// the state is written only after they were sent. ReportCoverage logs the
// trails' coverage once per cold start.
package posture
