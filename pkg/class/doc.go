// Package class classifies CloudTrail records into Cognito categories
// (user pool API, hosted UI, managed login, identity pool data and
// management, Cognito Sync, calls made with identity pool credentials, STS
// web identity, other) and derives what metrics need: the operation, whether
// it changed configuration, whether it was a sign-in or a password reset,
// whether it failed, and the pools and account involved.
//
// The operation tables live in operations.go, sourced from the seed
// documentation. A cognito-idp endpoint operation that neither table lists is
// never dropped: it is classified by the naming convention of its generation
// (managed login names start lower case) and flagged Unlisted. Likewise a
// cognito-idp or cognito-identity API operation no table lists whose name
// starts with a mutating verb (MutatingVerbs) is a configuration change,
// flagged Unlisted, unless UserDataOperations lists it.
package class
