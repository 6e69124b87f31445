// Package readmetest checks that the Go programs in README.md compile and
// run, so that the documentation works when pasted.
package readmetest
