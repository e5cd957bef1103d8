// Package malformed says, in the client's terms, why a request body could
// not be decoded: which field (its JSON path, lowerCamelCase as the API
// writes it: "unit", "activity.startTime", "participatingUnits[1]") and
// what is wrong with it, as a kind of malformation whose description the
// catalogs hold in every language (keys "malformed.<kind>"). protojson's
// own error is a sentence of the parser's ("proto: (line 1:35): error
// parsing "unit", oneof … is already set") that names proto types and
// positions; the client never sees it.
package malformed

import (
	"encoding/json"
	"errors"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"strings"
)

// Kind is one kind of malformation; its description is the catalog key
// "malformed.<Kind>".
type Kind string

// The kinds, with the placeholders each one's description takes.
const (
	// InvalidJSON: not JSON. {line}, {column}: where it stops being JSON.
	InvalidJSON Kind = "invalid_json"
	// Truncated: the body ends inside its JSON value.
	Truncated Kind = "truncated"
	// TrailingData: more after the body's one JSON value.
	TrailingData Kind = "trailing_data"
	// BodyNotObject: the body is JSON, but not an object.
	BodyNotObject Kind = "body_not_object"
	// UnknownField: no such field in this message.
	UnknownField Kind = "unknown_field"
	// UnknownFieldSuggest: UnknownField, with a field of a close name.
	// {suggestion}.
	UnknownFieldSuggest Kind = "unknown_field_suggest"
	// DuplicateField: the field is given twice (perhaps once by its JSON
	// name and once by its proto name).
	DuplicateField Kind = "duplicate_field"
	// OneofTwice: a second member of a oneof. {choices}: its members;
	// {given}: the one given first.
	OneofTwice Kind = "oneof_twice"
	// ExpectsObject, ExpectsArray, ExpectsString, ExpectsBool,
	// ExpectsInteger, ExpectsNumber: a value of the wrong JSON type.
	ExpectsObject  Kind = "expects_object"
	ExpectsArray   Kind = "expects_array"
	ExpectsString  Kind = "expects_string"
	ExpectsBool    Kind = "expects_bool"
	ExpectsInteger Kind = "expects_integer"
	ExpectsNumber  Kind = "expects_number"
	// OutOfRange: a number the field's type cannot hold. {min}, {max}.
	OutOfRange Kind = "out_of_range"
	// BadEnum: not one of the enum's value names. {value}: what was
	// given; {allowed}: the names.
	BadEnum Kind = "bad_enum"
	// BadTimestamp: not an RFC 3339 time in range.
	BadTimestamp Kind = "bad_timestamp"
	// BadDuration: not a duration ("1.5s").
	BadDuration Kind = "bad_duration"
	// BadFieldMask: not comma-separated field paths.
	BadFieldMask Kind = "bad_field_mask"
	// BadBase64: bytes that are not a base64 string.
	BadBase64 Kind = "bad_base64"
	// BadUTF8: a string that is not UTF-8.
	BadUTF8 Kind = "bad_utf8"
	// NullInList: null as an element of a list.
	NullInList Kind = "null_in_list"
	// DuplicateKey: a map key given twice.
	DuplicateKey Kind = "duplicate_key"
	// BadValue: anything else a field's type refuses.
	BadValue Kind = "bad_value"
)

// Kinds are every Kind: each has its description in every catalog.
var Kinds = []Kind{
	InvalidJSON, Truncated, TrailingData, BodyNotObject, UnknownField, UnknownFieldSuggest, DuplicateField, OneofTwice,
	ExpectsObject, ExpectsArray, ExpectsString, ExpectsBool, ExpectsInteger, ExpectsNumber, OutOfRange, BadEnum,
	BadTimestamp, BadDuration, BadFieldMask, BadBase64, BadUTF8, NullInList, DuplicateKey, BadValue,
}

// Problem is one thing wrong with a body.
type Problem struct {
	// Field is the JSON path of the field in the body, lowerCamelCase
	// ("unit.organization", "participatingUnits[0]"); an unknown field is
	// named as the client spelt it; "" is the body as a whole.
	Field string `json:"field"`
	Kind  Kind   `json:"kind"`
	// Values fill the description's placeholders.
	Values map[string]string `json:"values,omitempty"`
}

// Violation is p as a field violation of the request: its field, and
// its text "malformed.<kind>" with its values (rendered in the caller's
// language with the rest of the error).
func Violation(p Problem) apierr.FieldViolation {
	return apierr.FieldViolation{Field: p.Field, Key: "malformed." + string(p.Kind), Args: p.Values}
}

// Error is a body that could not be decoded, and why. It crosses
// grpc-gateway as the text of an INVALID_ARGUMENT status (the generated
// handlers keep only an error's text), so its text carries the problems
// and FromMessage reads them back.
type Error struct {
	Problems []Problem
}

// prefix starts the text of every Error.
const prefix = "malformed request body: "

func (e *Error) Error() string {
	raw, err := json.Marshal(e.Problems)
	if err != nil {
		// Strings and maps of strings always marshal.
		return prefix + "[]"
	}
	return prefix + string(raw)
}

// FromMessage reads the problems back from an Error's text, as a status
// message carries it.
func FromMessage(message string) ([]Problem, bool) {
	rest, ok := strings.CutPrefix(message, prefix)
	if !ok {
		return nil, false
	}
	var problems []Problem
	if err := json.Unmarshal([]byte(rest), &problems); err != nil || len(problems) == 0 {
		return nil, false
	}
	for _, p := range problems {
		if !known(p.Kind) {
			return nil, false
		}
	}
	return problems, true
}

func known(k Kind) bool {
	for _, kind := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// As is the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
