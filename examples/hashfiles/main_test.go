package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/process"
)

// TestMain lets the test binary serve as a worker: the pool starts workers
// from the running executable, which is this test binary.
func TestMain(m *testing.M) {
	process.Main()
	// Workers built with -race would sleep a second at exit, by default.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}

// TestRunSamples runs the program without arguments: every sample file's
// digest, computed here in this process, must come back from a worker, and
// the missing file's error must cross as a *process.RemoteError.
func TestRunSamples(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out, nil))
	t.Log("\n" + out.String())

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 1+samples+1+1)
	assert.Regexp(t, `^hashing 7 files in up to \d+ worker processes$`, lines[0])
	for i := range samples {
		sum := sha256.Sum256(sampleContent(i))
		assert.Regexp(t, "^"+hex.EncodeToString(sum[:])+" +"+strconv.Itoa(sampleSize)+
			" bytes  "+regexp.QuoteMeta(sampleName(i))+`  \(worker \d+\)$`, lines[1+i])
		assert.NotContains(t, lines[1+i], "(worker "+strconv.Itoa(os.Getpid())+")", "hashed in this process")
	}
	assert.Regexp(t, `missing\.bin  \(failed in the worker: openat missing\.bin: no such file or directory\)$`, lines[1+samples])
	assert.Regexp(t, `^took \S+; the reactor's worst lag meanwhile: \S+$`, lines[len(lines)-1])
}

// TestRunPaths hashes files named on the command line.
func TestRunPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hello.txt")
	require.NoError(t, os.WriteFile(path, []byte("hello, world\n"), 0o600))
	sum := sha256.Sum256([]byte("hello, world\n"))

	var out strings.Builder
	require.NoError(t, run(&out, []string{path}))
	assert.Contains(t, out.String(), hex.EncodeToString(sum[:])+"        13 bytes  "+path+"  (worker ")
}
