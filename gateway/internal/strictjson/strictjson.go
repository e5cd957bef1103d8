// Package strictjson is the gateway's JSON marshaler: grpc-gateway's
// protojson marshaler, except that a request body must be exactly one JSON
// value. The stock decoder reads the first value and ignores the rest, so
// `{…} xyz` was applied and a second object silently dropped.
package strictjson

import (
	"errors"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// ErrTrailingData: the body goes on after its JSON value.
var ErrTrailingData = errors.New("the request body has data after its JSON value")

// Marshaler is runtime.JSONPb with a decoder that refuses trailing data.
type Marshaler struct {
	*runtime.JSONPb
}

// NewDecoder reads one JSON value from r, and then only white space.
func (m Marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	wrapper, ok := m.JSONPb.NewDecoder(r).(runtime.DecoderWrapper)
	if !ok {
		// Only a grpc-gateway that changed its decoder type gets here; a
		// test pins the behaviour.
		return m.JSONPb.NewDecoder(r)
	}
	return runtime.DecoderFunc(func(v any) error {
		if err := wrapper.Decode(v); err != nil {
			return err
		}
		if _, err := wrapper.Token(); !errors.Is(err, io.EOF) {
			return ErrTrailingData
		}
		return nil
	})
}
