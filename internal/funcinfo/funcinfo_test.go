package funcinfo_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/twinego/twine/internal/funcinfo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func named() {}

type thing struct{}

func (*thing) method() {}

func TestOf(t *testing.T) {
	closure := func() {}
	var th thing
	tests := []struct {
		name      string
		f         any
		wantName  string
		wantWhere string
	}{
		{"function", named, "funcinfo_test.named", "funcinfo_test.go:16"},
		{"closure", closure, "funcinfo_test.TestOf.func1", "funcinfo_test.go:23"},
		{"method value", th.method, "funcinfo_test.(*thing).method", ""},
		{"nil func", (func())(nil), "", ""},
		{"not a func", 42, "", ""},
		{"nil", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, where := funcinfo.Of(tt.f)
			assert.Equal(t, tt.wantName, name)
			assert.Equal(t, tt.wantWhere, where)
		})
	}
}

func TestString(t *testing.T) {
	assert.Equal(t, "funcinfo_test.named (funcinfo_test.go:16)", funcinfo.String(named))
	assert.Equal(t, "", funcinfo.String(nil))
}
