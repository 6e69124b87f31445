// Package graphtest is the test harness of featgraph, named like
// net/http/httptest: it runs a graph in a test with its fetch nodes stubbed,
// and asserts how every node ended.
//
// A [Harness] is built from a testing.TB, the graph under test and options
// that stub nodes — by typed Ref ([Stub], [StubFunc1]) so that a value of the
// wrong type does not compile, or by name ([StubNamed]) checked when the
// harness is built. The graph itself is not changed: the harness runs a copy
// whose bodies are replaced, with the same names, kinds, dependencies, types,
// timeouts and fallbacks.
//
//	h := graphtest.New(t, g,
//		graphtest.Stub(account, Account{ID: "a1", Limit: 500}),
//		graphtest.StubHang(device),              // ignores its context; released at test end
//		graphtest.Stub(score, 0.93),
//		graphtest.Forbid(kyc),                   // fails the test if it runs
//	)
//	run := h.Run(ctx, []executor.Binding{executor.Bind(card, "c1")}, decision)
//	graphtest.ExpectValue(run, decision, "review")
//	run.ExpectRan(score)
//	run.ExpectTimedOut(device)
//	run.ExpectSkipped(kyc)
//
// The harness is strict: a run whose targets may need a fetch or each node
// that is neither stubbed, nor [Allow]ed to reach its real service, nor
// [Forbid]den fails before it starts, with the list of those nodes. So a test
// never reaches a real service by accident.
//
// A failed assertion prints the run's outcomes as a table (node, kind,
// outcome, duration, cause, stub), not a dump.
//
// One way each to make a node misbehave: [Delay] slows it, [StubError],
// [StubPanic] and [StubHang] make it fail, and [RandomFaults] adds latency,
// errors, panics or hangs to seeded random fetch nodes, to check that
// fallbacks keep a decision possible. The run's deadline, like any executor
// setting, is given with [ExecutorOptions](executor.WithRunTimeout(d)).
//
// [Replay] turns a run record with values (made in production by
// executor.Result.RecordValues, kept as JSON with Record.WriteJSON, read
// back by executor.ReadRecord) into stubs, so a production run can be
// reproduced with no backends.
//
// Hung stubs ignore their context, as a broken service would; the harness
// releases them when the test ends (t.Cleanup), so no goroutine outlives it.
package graphtest
