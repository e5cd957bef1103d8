// Package strictjson is the gateway's JSON marshaler: grpc-gateway's
// protojson marshaler, except that a request body must be exactly one JSON
// value, and a body it cannot decode is refused with what is wrong in the
// client's terms (a *malformed.Error), never protojson's own text. The
// stock decoder reads the first value and ignores the rest, so `{…} xyz`
// was applied and a second object silently dropped.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/gateway/internal/malformed"
)

// Marshaler is runtime.JSONPb with a decoder that refuses trailing data
// and explains what it refuses.
type Marshaler struct {
	*runtime.JSONPb
}

// NewDecoder reads one JSON value from r, and then only white space. An
// empty body is io.EOF, which grpc-gateway takes as an empty request.
func (m Marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		// The body is bounded (middleware.LimitBody), and grpc-gateway
		// reads it whole anyway; an error reading it (over the limit) is
		// the reader's, as it was.
		body, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if len(bytes.Trim(body, " \t\r\n")) == 0 {
			return io.EOF
		}
		if m.decodeOne(body, v) == nil {
			return nil
		}
		md, ok := target(v)
		if !ok {
			return errors.New("the request body could not be decoded")
		}
		problems := malformed.Diagnose(body, md)
		if len(problems) == 0 {
			// protojson refused what the diagnosis found nothing wrong
			// with: still an answer in the client's terms, never the
			// parser's text.
			problems = []malformed.Problem{{Kind: malformed.BadValue}}
		}
		return &malformed.Error{Problems: problems}
	})
}

// decodeOne decodes body, exactly one JSON value, into v.
func (m Marshaler) decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailingData
	}
	return m.Unmarshal(raw, v)
}

var errTrailingData = errors.New("the request body has data after its JSON value")

var messageType = reflect.TypeFor[proto.Message]()

// target is the message v decodes into: the generated handlers pass a
// *Request for a body of "*" and a **Resource for a body of one field.
func target(v any) (protoreflect.MessageDescriptor, bool) {
	for t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer; t = t.Elem() {
		if t.Implements(messageType) {
			return reflect.Zero(t).Interface().(proto.Message).ProtoReflect().Descriptor(), true
		}
	}
	return nil, false
}
