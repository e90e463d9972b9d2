package funcinfo_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/internal/funcinfo"
)

func TestFrame(t *testing.T) {
	pcs := make([]uintptr, 1)
	require.Equal(t, 1, runtime.Callers(1, pcs))
	_, _, line, _ := runtime.Caller(0)
	fr, _ := runtime.CallersFrames(pcs).Next()
	assert.Equal(t, "funcinfo_test.TestFrame (frame_test.go:"+strconv.Itoa(line-1)+")", funcinfo.Frame(fr))
	assert.Equal(t, "main.f", funcinfo.Frame(runtime.Frame{Function: "example.com/x/main.f"}),
		"a frame without a file shows its name alone")
}
