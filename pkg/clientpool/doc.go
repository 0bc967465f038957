// Package clientpool resolves user pool app client ids to the user pools
// they belong to, for the end-user calls (InitiateAuth, SignUp,
// ForgotPassword, ...) whose CloudTrail records name only the client.
//
// A Resolver answers from, cheapest first: what earlier files taught it
// (aggregate.Aggregator passes on the pairs records gave), a static map
// (CLIENT_POOLS), the DynamoDB cache of earlier lookups, and an optional
// lookup through cognito-idp ListUserPools and ListUserPoolClients. It
// implements aggregate.Resolver. ParseMap parses the static map.
//
// Every pair is scoped by Region (Key): an app client id is unique only
// within a Region, and a user pool id starts with its Region, so a pair
// answers only calls made in its pool's Region. The lookup lists the pools
// of one Region (Options.Region, the function's own) and so answers only
// for calls made there.
package clientpool
