package main

// allSuites returns every suite, in the order they run. To add one, write
// a function returning its suite in a file of its own (suite_NAME.go) and
// list it here; if Twisted can measure the same, add a script under
// bench/twisted that prints "name value unit" lines and name it in the
// suite.
func allSuites() []suite {
	return []suite{
		deferredSuite(),
		timersSuite(),
		callsSuite(),
		cooperateSuite(),
		lagSuite(),
		poolsSuite(),
		framingSuite(),
		parallelSuite(),
		remoteSuite(),
		netSuite(),
	}
}
