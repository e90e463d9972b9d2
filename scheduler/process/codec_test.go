package process_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/scheduler/process"
)

// jsonCodec is a codec without state: each value is one JSON document.
type jsonCodec struct{ name string }

func (c jsonCodec) Name() string              { return c.name }
func (jsonCodec) NewEncoder() process.Encoder { return jsonEncoder{} }
func (jsonCodec) NewDecoder() process.Decoder { return jsonDecoder{} }

type jsonEncoder struct{}

func (jsonEncoder) Encode(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (jsonEncoder) Reset() {}

type jsonDecoder struct{}

func (jsonDecoder) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

var jsonCodecValue = jsonCodec{name: "json"}

func init() { process.RegisterCodec(jsonCodecValue) }

func TestPluggableCodec(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1), process.WithCodec(jsonCodecValue))
	s := must(t, squareWithPID.Call(p, 4))
	assert.Equal(t, squared{N: 4, Square: 16, PID: s.PID}, s)
	assert.Equal(t, []int{s.PID}, p.Workers())
	// JSON turns an int in an interface into a float64, as it does.
	assert.Equal(t, "float64 5", must(t, describe.Call(p, any(5))))
}

func TestRegisterCodecMisuse(t *testing.T) {
	assert.PanicsWithValue(t, `process: RegisterCodec: codec "gob" registered twice`, func() { process.RegisterCodec(process.Gob()) })
	assert.PanicsWithValue(t, "process: RegisterCodec: empty codec name", func() { process.RegisterCodec(jsonCodec{}) })
	assert.PanicsWithValue(t, "process: RegisterCodec: nil Codec", func() { process.RegisterCodec(nil) })
}
