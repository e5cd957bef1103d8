package strictjson_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/tjsia/chapterhouse/gateway/internal/malformed"
	"github.com/tjsia/chapterhouse/gateway/internal/strictjson"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func TestOneValueOnly(t *testing.T) {
	m := strictjson.Marshaler{JSONPb: &runtime.JSONPb{}}
	tests := []struct {
		name, body string
		want       malformed.Kind // "": decoded
		eof        bool
	}{
		{"one object", `{"displayName":"Acme"}`, "", false},
		{"one object and white space", "{\"displayName\":\"Acme\"} \n\t ", "", false},
		{"an empty body is for the caller to judge", ``, "", true},
		{"white space only", " \n", "", true},
		{"trailing words", `{"displayName":"Acme"} xyz`, malformed.TrailingData, false},
		{"a second object", `{"displayName":"Acme"}{"displayName":"Evil"}`, malformed.TrailingData, false},
		{"a trailing number", `{"displayName":"Acme"} 1`, malformed.TrailingData, false},
		{"broken JSON", `{"displayName":`, malformed.Truncated, false},
		{"an unknown field", `{"displayNam":"Acme"}`, malformed.UnknownFieldSuggest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, target := range []func() (any, func() string){
				// A body of "*" decodes into the request, one of a field
				// into a pointer to the field's message.
				func() (any, func() string) {
					var org membershipv1.Organization
					return &org, org.GetDisplayName
				},
				func() (any, func() string) {
					var org *membershipv1.Organization
					return &org, func() string { return org.GetDisplayName() }
				},
			} {
				v, name := target()
				err := m.NewDecoder(strings.NewReader(tt.body)).Decode(v)
				switch {
				case tt.eof:
					if !errors.Is(err, io.EOF) {
						t.Fatalf("err %v, want io.EOF", err)
					}
				case tt.want == "":
					if err != nil || name() != "Acme" {
						t.Fatalf("err %v, decoded %q", err, name())
					}
				default:
					e, ok := malformed.As(err)
					if !ok || len(e.Problems) == 0 || e.Problems[0].Kind != tt.want {
						t.Fatalf("err %v, want a malformed.Error of %s", err, tt.want)
					}
				}
			}
		})
	}
}
