package queryparams_test

import (
	"net/url"
	"testing"

	"github.com/tjsia/chapterhouse/gateway/internal/queryparams"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func TestUnknown(t *testing.T) {
	c := queryparams.New(membershipv1.File_chapterhouse_membership_v1_membership_proto.Services().Get(0))
	tests := []struct {
		name, verb, pattern, query string
		unknown                    string // "" when every parameter is taken
	}{
		{"a filter by JSON name", "GET", "/v1/people", "organization=organizations/x&pageSize=5", ""},
		{"a filter by proto name", "GET", "/v1/people", "page_size=5&page_token=t", ""},
		{"a misspelt filter", "GET", "/v1/people", "organisation=organizations/x", "organisation"},
		{"the first unknown in sorted order", "GET", "/v1/people", "zz=1&aa=2&pageSize=1", "aa"},
		{"a client-chosen id beside the body", "POST", "/v1/organizations", "organizationId=acme", ""},
		{"a misspelt client-chosen id", "POST", "/v1/organizations", "organisationId=acme", "organisationId"},
		{"the body's field is not a parameter", "POST", "/v1/organizations", "organization.displayName=x", "organization.displayName"},
		{"a path variable is not a parameter", "PATCH", "/v1/{person.name=people/*}", "person.name=people/x", "person.name"},
		{"the update mask is", "PATCH", "/v1/{person.name=people/*}", "updateMask=displayName", ""},
		{"a field under a scalar", "GET", "/v1/people", "pageSize.x=1", "pageSize.x"},
		{"a route that is not an API method takes anything", "GET", "/healthz", "x=1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, unknown := c.Unknown(tt.verb, tt.pattern, q)
			if got != tt.unknown || unknown != (tt.unknown != "") {
				t.Fatalf("Unknown = %q, %v; want %q", got, unknown, tt.unknown)
			}
		})
	}
}
