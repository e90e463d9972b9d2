package process

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hotEcho is registered for TestHotCallFrames (in workers too, which keeps
// the registries of this test binary's processes alike).
var hotEcho = Register("test.internal.hotEcho", func(_ context.Context, n int) (int, error) { return n, nil })

// TestHotCallFrames: a hot call frame is a call, and tells the worker that
// the next call follows at once; a plain call frame tells it otherwise.
func TestHotCallFrames(t *testing.T) {
	require.True(t, registry.frozen, "TestMain calls Main, which freezes the registry")
	enc := Gob().NewEncoder()
	s := &server{tasks: make(map[uint64]*running), dec: Gob().NewDecoder()}
	for id, kind := range []byte{kindHot, kindCall, kindHot, kindHot, kindCall} {
		b, at := beginFrame(nil, kind, uint64(id+1))
		b = binary.AppendUvarint(b, uint64(hotEcho.e.index))
		b, err := enc.Encode(b, id)
		require.NoError(t, err)
		b = endFrame(b, at)
		c, err := s.handle(b[frameHeader:])
		require.NoError(t, err)
		require.NotNil(t, c, "frame %d", id)
		assert.Equal(t, id, *c.arg.(*int))
		assert.Equal(t, kind == kindHot, s.hotCall(), "frame %d", id)
		c.rt.cancel()
	}
}
