package malformed

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Diagnose says what is wrong with body as the JSON of a message md: every
// problem protojson would refuse, each at its field, in the order the body
// gives them. A body that is not JSON has one problem, where it stops
// being JSON. The structure (objects, lists, field names, oneofs) is
// walked here; whether a single value fits its field (a time, an enum
// name, a number in range) is asked of protojson itself, on that value
// alone, so the two cannot disagree about what a field takes.
func Diagnose(body []byte, md protoreflect.MessageDescriptor) []Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // no body: an empty request
		}
		return []Problem{syntax(body, md)}
	}
	d := &diagnosis{}
	if special(md) {
		// A body that is itself a well-known type with its own JSON form.
		if protojson.Unmarshal(raw, dynamicpb.NewMessage(md)) != nil {
			d.add("", BadValue, nil)
		}
	} else {
		d.message(raw, md, "", true)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		d.add("", TrailingData, nil)
	}
	return d.problems
}

// path is a JSON path in the body: "unit.organization",
// "participatingUnits[1]", `labels["k"]`; "" is the body.
type path string

func (p path) field(name string) path {
	if p == "" {
		return path(name)
	}
	return p + "." + path(name)
}

func (p path) index(i int) path { return p + "[" + path(strconv.Itoa(i)) + "]" }

func (p path) key(k string) path { return p + "[" + path(strconv.Quote(k)) + "]" }

type diagnosis struct {
	problems []Problem
}

func (d *diagnosis) add(p path, kind Kind, values map[string]string) {
	d.problems = append(d.problems, Problem{Field: string(p), Kind: kind, Values: values})
}

// message walks raw, the JSON of a message md at p.
func (d *diagnosis) message(raw json.RawMessage, md protoreflect.MessageDescriptor, p path, body bool) {
	if jsonType(raw) != '{' {
		if body {
			d.add(p, BodyNotObject, nil)
		} else {
			d.add(p, ExpectsObject, nil)
		}
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // {
	seen := map[protoreflect.FieldNumber]bool{}
	oneofs := map[protoreflect.FullName]protoreflect.FieldDescriptor{}
	for dec.More() {
		key, val, ok := member(dec)
		if !ok {
			// raw was checked as JSON before; nothing else is readable.
			d.add(p, BadValue, nil)
			return
		}
		fd := lookup(md, key)
		if fd == nil {
			d.unknown(p, key, md)
			continue
		}
		fp := p.field(fd.JSONName())
		if seen[fd.Number()] {
			d.add(fp, DuplicateField, nil)
			continue
		}
		seen[fd.Number()] = true
		// protojson skips a null, except where null is a value.
		if jsonType(val) == 'z' && !nullable(fd) {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if first, ok := oneofs[od.FullName()]; ok {
				d.add(fp, OneofTwice, map[string]string{"choices": choices(od), "given": first.JSONName()})
				continue
			}
			oneofs[od.FullName()] = fd
		}
		switch {
		case fd.IsList():
			d.list(val, fd, md, fp)
		case fd.IsMap():
			d.mapField(val, fd, md, fp)
		default:
			d.value(val, fd, md, fp, func(v []byte) []byte { return wrapField(fd, v) })
		}
	}
}

// value checks val, the value of the singular field fd of parent (or an
// element of it: wrap puts a value where protojson reads fd from).
func (d *diagnosis) value(val json.RawMessage, fd protoreflect.FieldDescriptor, parent protoreflect.MessageDescriptor, p path, wrap func([]byte) []byte) {
	if m := fd.Message(); m != nil && !special(m) {
		d.message(val, m, p, false)
		return
	}
	if protojson.Unmarshal(wrap(val), dynamicpb.NewMessage(parent)) == nil {
		return
	}
	kind, values := classify(val, fd)
	d.add(p, kind, values)
}

func (d *diagnosis) list(val json.RawMessage, fd protoreflect.FieldDescriptor, parent protoreflect.MessageDescriptor, p path) {
	if jsonType(val) != '[' {
		d.add(p, ExpectsArray, nil)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(val))
	_, _ = dec.Token() // [
	for i := 0; dec.More(); i++ {
		var elem json.RawMessage
		if err := dec.Decode(&elem); err != nil {
			d.add(p, BadValue, nil)
			return
		}
		if jsonType(elem) == 'z' && !nullable(fd) {
			d.add(p.index(i), NullInList, nil)
			continue
		}
		d.value(elem, fd, parent, p.index(i), func(v []byte) []byte {
			return wrapField(fd, append(append([]byte{'['}, v...), ']'))
		})
	}
}

func (d *diagnosis) mapField(val json.RawMessage, fd protoreflect.FieldDescriptor, parent protoreflect.MessageDescriptor, p path) {
	if jsonType(val) != '{' {
		d.add(p, ExpectsObject, nil)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(val))
	_, _ = dec.Token() // {
	seen := map[string]bool{}
	for dec.More() {
		key, v, ok := member(dec)
		if !ok {
			d.add(p, BadValue, nil)
			return
		}
		kp := p.key(key)
		if seen[key] {
			d.add(kp, DuplicateKey, nil)
			continue
		}
		seen[key] = true
		if !validKey(key, fd.MapKey()) {
			d.add(kp, BadValue, nil)
			continue
		}
		d.value(v, fd.MapValue(), parent, kp, func(v []byte) []byte {
			quoted, _ := json.Marshal(key)
			return wrapField(fd, append(append(append(append([]byte{'{'}, quoted...), ':'), v...), '}'))
		})
	}
}

// unknown reports key, which names no field of md, suggesting a field of
// a close name.
func (d *diagnosis) unknown(p path, key string, md protoreflect.MessageDescriptor) {
	if s := suggest(key, md); s != "" {
		d.add(p.field(key), UnknownFieldSuggest, map[string]string{"suggestion": s})
		return
	}
	d.add(p.field(key), UnknownField, nil)
}

// member reads one key and its raw value from an object.
func member(dec *json.Decoder) (string, json.RawMessage, bool) {
	tok, err := dec.Token()
	key, ok := tok.(string)
	if err != nil || !ok {
		return "", nil, false
	}
	var val json.RawMessage
	if err := dec.Decode(&val); err != nil {
		return "", nil, false
	}
	return key, val, true
}

// lookup finds the field a JSON key names, by its JSON name or its proto
// name, as protojson does.
func lookup(md protoreflect.MessageDescriptor, key string) protoreflect.FieldDescriptor {
	if md == nil {
		return nil
	}
	if fd := md.Fields().ByJSONName(key); fd != nil {
		return fd
	}
	return md.Fields().ByName(protoreflect.Name(key))
}

// wrapField is {"<fd's JSON name>": v}.
func wrapField(fd protoreflect.FieldDescriptor, v []byte) []byte {
	name, _ := json.Marshal(fd.JSONName())
	out := append([]byte{'{'}, name...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}')
}

// special: a well-known type with a JSON form of its own (a time is a
// string, an Any carries "@type"), checked as a value, not walked.
func special(md protoreflect.MessageDescriptor) bool {
	return md.FullName().Parent() == "google.protobuf" && md.FullName() != "google.protobuf.Empty"
}

// nullable: a field for which JSON null is a value, not "unset".
func nullable(fd protoreflect.FieldDescriptor) bool {
	if m := fd.Message(); m != nil {
		return m.FullName() == "google.protobuf.Value"
	}
	if e := fd.Enum(); e != nil {
		return e.FullName() == "google.protobuf.NullValue"
	}
	return false
}

// jsonType is the first byte of a JSON value's kind: '{', '[', '"' for a
// string, 'n' for a number, 't' for true or false, 'z' for null.
func jsonType(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '{', '[', '"':
		return c
	case 't', 'f':
		return 't'
	case 'n':
		return 'z'
	default:
		return 'n'
	}
}

func choices(od protoreflect.OneofDescriptor) string {
	names := make([]string, od.Fields().Len())
	for i := range names {
		names[i] = od.Fields().Get(i).JSONName()
	}
	return strings.Join(names, ", ")
}

func validKey(key string, fd protoreflect.FieldDescriptor) bool {
	var err error
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if key != "true" && key != "false" {
			return false
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		_, err = strconv.ParseInt(key, 10, 32)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		_, err = strconv.ParseInt(key, 10, 64)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		_, err = strconv.ParseUint(key, 10, 32)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		_, err = strconv.ParseUint(key, 10, 64)
	}
	return err == nil
}

// classify names what is wrong with val, which protojson refused for fd.
func classify(val json.RawMessage, fd protoreflect.FieldDescriptor) (Kind, map[string]string) {
	t := jsonType(val)
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return BadTimestamp, nil
		case "google.protobuf.Duration":
			return BadDuration, nil
		case "google.protobuf.FieldMask":
			return BadFieldMask, nil
		}
		return BadValue, nil
	case protoreflect.EnumKind:
		return BadEnum, map[string]string{"value": clip(val), "allowed": enumNames(fd.Enum())}
	case protoreflect.BoolKind:
		return ExpectsBool, nil
	case protoreflect.StringKind:
		if t == '"' {
			return BadUTF8, nil
		}
		return ExpectsString, nil
	case protoreflect.BytesKind:
		return BadBase64, nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if _, ok := number(val); ok {
			return OutOfRange, ranges[fd.Kind()]
		}
		return ExpectsNumber, nil
	default: // the integer kinds
		if n, ok := number(val); ok && n.IsInt() {
			return OutOfRange, ranges[fd.Kind()]
		}
		return ExpectsInteger, nil
	}
}

// number is val as a number, whether a JSON number or a string holding
// one (protojson takes both).
func number(val json.RawMessage) (*big.Float, bool) {
	s := string(bytes.TrimSpace(val))
	if jsonType(val) == '"' {
		if err := json.Unmarshal(val, &s); err != nil {
			return nil, false
		}
	} else if jsonType(val) != 'n' {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 10, 256, big.ToNearestEven)
	return f, err == nil
}

// ranges are the bounds of each numeric kind, as the description says them.
var ranges = func() map[protoreflect.Kind]map[string]string {
	r := func(min, max string) map[string]string { return map[string]string{"min": min, "max": max} }
	i32, u32 := r("-2147483648", "2147483647"), r("0", "4294967295")
	i64, u64 := r("-9223372036854775808", "9223372036854775807"), r("0", "18446744073709551615")
	return map[protoreflect.Kind]map[string]string{
		protoreflect.Int32Kind: i32, protoreflect.Sint32Kind: i32, protoreflect.Sfixed32Kind: i32,
		protoreflect.Uint32Kind: u32, protoreflect.Fixed32Kind: u32,
		protoreflect.Int64Kind: i64, protoreflect.Sint64Kind: i64, protoreflect.Sfixed64Kind: i64,
		protoreflect.Uint64Kind: u64, protoreflect.Fixed64Kind: u64,
		protoreflect.FloatKind:  r("-3.4028235e+38", "3.4028235e+38"),
		protoreflect.DoubleKind: r("-1.7976931348623157e+308", "1.7976931348623157e+308"),
	}
}()

// enumNames are the value names a client may send, the zero value (never a
// meaningful choice) left out.
func enumNames(ed protoreflect.EnumDescriptor) string {
	var names []string
	for i := range ed.Values().Len() {
		if v := ed.Values().Get(i); v.Number() != 0 {
			names = append(names, string(v.Name()))
		}
	}
	return strings.Join(names, ", ")
}

// clip is a value as the client sent it, short enough to repeat back.
func clip(val json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, val) != nil {
		buf.Reset()
		buf.Write(val)
	}
	s := strings.ToValidUTF8(buf.String(), "\uFFFD")
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:63]) + "…"
	}
	return s
}

// suggest is the field of md whose JSON name is closest to key, when one
// is close enough to be the one meant ("organisation" → "organization",
// "display_Name" → "displayName").
func suggest(key string, md protoreflect.MessageDescriptor) string {
	fold := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	best, bestDist, tie := "", 3, false
	for i := range md.Fields().Len() {
		name := md.Fields().Get(i).JSONName()
		if fold(name) == fold(key) {
			return name
		}
		switch dist := distance(fold(key), fold(name)); {
		case dist < bestDist:
			best, bestDist, tie = name, dist, false
		case dist == bestDist:
			tie = true
		}
	}
	if tie || len(key) < 4 {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
