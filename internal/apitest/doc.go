// Package apitest keeps the exported API of every public featgraph package
// under review: it lists each package's exported names and signatures and
// compares them with golden files in testdata/, so an addition or a change
// nobody looked at fails the build. After a reviewed change, regenerate the
// golden files with
//
//	go test ./internal/apitest -update
package apitest
