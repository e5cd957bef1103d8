package strictjson_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/tjsia/chapterhouse/gateway/internal/strictjson"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func TestOneValueOnly(t *testing.T) {
	m := strictjson.Marshaler{JSONPb: &runtime.JSONPb{}}
	tests := []struct {
		name, body string
		want       error // nil: decoded; errAny: some decode error
	}{
		{"one object", `{"displayName":"Acme"}`, nil},
		{"one object and white space", "{\"displayName\":\"Acme\"} \n\t ", nil},
		{"an empty body is for the caller to judge", ``, io.EOF},
		{"trailing words", `{"displayName":"Acme"} xyz`, strictjson.ErrTrailingData},
		{"a second object", `{"displayName":"Acme"}{"displayName":"Evil"}`, strictjson.ErrTrailingData},
		{"a trailing number", `{"displayName":"Acme"} 1`, strictjson.ErrTrailingData},
		{"broken JSON", `{"displayName":`, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var org membershipv1.Organization
			err := m.NewDecoder(strings.NewReader(tt.body)).Decode(&org)
			switch {
			case tt.want == errAny:
				if err == nil {
					t.Fatal("decoded, want an error")
				}
			case !errors.Is(err, tt.want):
				t.Fatalf("err %v, want %v", err, tt.want)
			case tt.want == nil && org.GetDisplayName() != "Acme":
				t.Fatalf("decoded %v", &org)
			}
		})
	}
}

var errAny = errors.New("any error")
