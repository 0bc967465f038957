// Package runtimeapi speaks the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) where
// aws-lambda-go does not: ReportInitError tells Lambda why the function
// could not start, so the error shows in the invocation's response and the
// logs say which setting is wrong, rather than a bare "Runtime.ExitError".
//
// Server is the other side, for tests: a fake Runtime API that hands out
// events and collects the responses, so the deployed bootstrap binary can
// be run exactly as Lambda runs it, without Docker.
package runtimeapi
