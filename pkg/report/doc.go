// Package report answers, offline, the six sample CloudWatch Logs Insights
// queries of the Amazon Cognito developer guide ("Analyzing Amazon Cognito
// CloudTrail events with Amazon CloudWatch Logs Insights"), over records the
// engine has read and classified:
//
//  1. the 25 most recent events,
//  2. the 25 most recent events whose record contains "Exception",
//  3. the 25 most recent NotAuthorizedException events, with the user's sub,
//  4. the number of records by sourceIPAddress and eventName,
//  5. the top 25 addresses (with eventName) that got NotAuthorizedException,
//  6. the top 25 addresses that called ForgotPassword.
//
// Every query filters on eventSource = "cognito-idp.amazonaws.com", as the
// guide's do, so hosted UI and managed login endpoint events count alongside
// user pool API calls. Lists show the event's time, name, category, error
// code, address, region, pool and id, and never request parameters, response
// elements or user names: a report is meant to be pasted into a ticket.
//
// Logs Insights leaves the order of equal timestamps and counts unspecified;
// here ties are broken by event id (then file and position) and by address
// and event name, so a report is a pure function of its input, whatever order
// the files were read in. Memory is bounded: "most recent" lists keep a heap
// of 25, and only the per-address counts grow with the input.
package report
