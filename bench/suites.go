package main

// allSuites returns every suite, in the order they run. To add one, write
// a function returning its suite in a file of its own (suite_NAME.go) and
// list it here; a script that measures the same outside Go (Twisted's)
// goes under bench/ and is named as the scenarios' other round: doc.go
// says how.
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
