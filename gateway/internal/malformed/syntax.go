package malformed

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// syntax is the problem of a body that is not JSON: the field whose value
// (or the object whose member) was being read where it stopped being
// JSON, and where that is.
func syntax(body []byte, md protoreflect.MessageDescriptor) Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			at := pending(stack)
			if bad, ok := badByte(body); ok {
				// Right after a value ("capacity": 1O), the decoder
				// has taken the value as ended: the fault is the value's.
				if top := last(stack); top != nil && top.lastPath != "" && top.lastEnd == int64(bad) && (top.expectKey || !top.object) {
					at.path = top.lastPath
				}
				line, column := position(body, bad)
				return Problem{Field: string(at.path), Kind: InvalidJSON,
					Values: map[string]string{"line": strconv.Itoa(line), "column": strconv.Itoa(column)}}
			}
			// The body ended inside its value (io.ErrUnexpectedEOF).
			return Problem{Field: string(at.path), Kind: Truncated}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			at := pending(stack)
			f := &frame{path: at.path, object: tok == json.Delim('{'), expectKey: true}
			switch {
			case len(stack) == 0:
				f.message = md
			case at.field == nil:
			case f.object && at.field.IsMap() && !at.element:
				f.mapOf = at.field
			case f.object && at.field.Message() != nil:
				f.message = at.field.Message()
			case !f.object && at.field.IsList() && !at.element:
				f.listOf = at.field
			}
			stack = append(stack, f)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done(stack, dec.InputOffset())
		default:
			if top := last(stack); top != nil && top.object && top.expectKey {
				top.key, _ = tok.(string)
				top.expectKey = false
				continue
			}
			done(stack, dec.InputOffset())
		}
	}
}

// frame is an object or array being read.
type frame struct {
	path   path
	object bool
	// The object's message, the map an object is the value of, or the
	// list field an array is the value of; nil when unknown.
	message protoreflect.MessageDescriptor
	mapOf   protoreflect.FieldDescriptor
	listOf  protoreflect.FieldDescriptor
	// An object's member being read: its key, once read.
	key       string
	expectKey bool
	// An array's elements read so far.
	n int
	// The last value read in it, and the offset where it ended.
	lastPath path
	lastEnd  int64
}

// slot is the value about to be read: its path, and the field it is the
// value (or an element, or a map value) of.
type slot struct {
	path    path
	field   protoreflect.FieldDescriptor
	element bool // an element of a list or a value of a map
}

func pending(stack []*frame) slot {
	top := last(stack)
	switch {
	case top == nil:
		return slot{}
	case !top.object:
		return slot{path: top.path.index(top.n), field: top.listOf, element: true}
	case top.expectKey:
		return slot{path: top.path}
	case top.mapOf != nil:
		return slot{path: top.path.key(top.key), field: top.mapOf.MapValue(), element: true}
	}
	if fd := lookup(top.message, top.key); fd != nil {
		return slot{path: top.path.field(fd.JSONName()), field: fd}
	}
	return slot{path: top.path.field(top.key)}
}

// done: a value that ended at offset end was read in the innermost
// container.
func done(stack []*frame, end int64) {
	if top := last(stack); top != nil {
		top.lastPath, top.lastEnd = pending(stack).path, end
		if top.object {
			top.expectKey = true
		} else {
			top.n++
		}
	}
}

func last(stack []*frame) *frame {
	if len(stack) == 0 {
		return nil
	}
	return stack[len(stack)-1]
}

// badByte is the index of the byte where body stops being JSON, unless it
// merely ends too soon. (json.Unmarshal reports the offset just past it;
// the streaming decoder's offsets differ by error.)
func badByte(body []byte) (int, bool) {
	var se *json.SyntaxError
	if err := json.Unmarshal(body, &json.RawMessage{}); errors.As(err, &se) && int(se.Offset) <= len(body) &&
		se.Error() != "unexpected end of JSON input" {
		return int(se.Offset) - 1, true
	}
	return 0, false
}

// position is the line and column (in characters, from 1) of byte i (from
// 0).
func position(body []byte, i int) (line, column int) {
	i = max(0, min(i, len(body)))
	start := bytes.LastIndexByte(body[:i], '\n') + 1
	return bytes.Count(body[:i], []byte{'\n'}) + 1, utf8.RuneCount(body[start:i]) + 1
}
