package cooperate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// One concept, one value: an error of any package for a function that
// called runtime.Goexit matches all three names.
func TestErrGoexitIsOneValue(t *testing.T) {
	assert.True(t, cooperate.ErrGoexit == deferred.ErrGoexit, "cooperate.ErrGoexit is deferred.ErrGoexit")
	assert.True(t, reactor.ErrGoexit == deferred.ErrGoexit, "reactor.ErrGoexit is deferred.ErrGoexit")
}
