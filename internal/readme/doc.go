// Package readme holds the test that runs the README's shell blocks, so
// that the commands a newcomer is told to type keep working (issue 7: the
// moto walkthrough had stopped working with the aws CLI v1).
//
// Every ```sh block of the documentation (README.md and the pages under
// docs/, as package docs lists them) is run, in the repository root, with
// bash -euo pipefail; the blocks under one heading of one page run as one
// script, in order, since they share state (a started server, exported
// variables).
// A block that cannot run here is marked just before its fence with
//
//	<!-- not run: REASON -->
//
// and a command of a block that must not run (the test suite itself, a
// benchmark) with
//
//	<!-- not run "COMMAND PREFIX": REASON -->
//
// which drops the lines starting with that prefix and runs the rest. A
// block with neither is run; a marker without a reason fails the test.
// MOTO_PORT is set to a free port for the scripts that start moto_server.
package readme
