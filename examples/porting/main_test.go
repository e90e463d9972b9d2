package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the port on a reactor inside a synctest bubble, where time is
// fake, and checks that it prints what the Twisted original prints: beta
// arrives at 50 ms, the progress report at 100 ms sees one page, alpha
// arrives at 150 ms and gamma, started when beta's fetch released the
// semaphore, at 170 ms.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, run(&out))
		assert.Equal(t, "progress: 1 of 3 pages\n"+
			"fetched: beta, alpha, gamma\n"+
			"top letters: a=15, m=6, b=3\n", out.String())
	})
}

// TestGuideQuotesThisFile checks that every Go piece of the worked port in
// docs/porting.md is this program's code (the guide indents with four
// spaces where gofmt puts a tab).
func TestGuideQuotesThisFile(t *testing.T) {
	guide, err := os.ReadFile("../../docs/porting.md")
	require.NoError(t, err)
	_, port, found := strings.Cut(string(guide), "\n## A worked port\n")
	require.True(t, found, "docs/porting.md has no worked port section")
	port, _, _ = strings.Cut(port, "\n## ") // the sections after it quote other programs
	source, err := os.ReadFile("main.go")
	require.NoError(t, err)
	code := strings.ReplaceAll(string(source), "\t", "    ")

	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(port, -1)
	require.GreaterOrEqual(t, len(blocks), 5, "the worked port shows its Go side piece by piece")
	for _, b := range blocks {
		assert.Contains(t, code, b[1], "a piece quoted in docs/porting.md is not in main.go")
	}
}
