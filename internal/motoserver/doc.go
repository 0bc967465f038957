// Package motoserver starts a private moto_server (a local emulation of S3,
// CloudWatch, DynamoDB, SQS and SNS) for integration tests, so that the
// Lambda's code is exercised against real HTTP APIs and SDK serialisation
// rather than hand-written fakes.
//
// A missing moto_server skips the calling test, except in CI (CI=true), where
// skipping would silently drop the integration suite: there it fails.
package motoserver
