package precondition_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/gateway/internal/precondition"
	"github.com/tjsia/chapterhouse/platform/apierr"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

func TestParse(t *testing.T) {
	tests := []struct {
		lines []string
		want  precondition.IfMatch
		ok    bool
	}{
		{[]string{`"abc123"`}, precondition.IfMatch{Etag: "abc123"}, true},
		{[]string{` "abc123" `}, precondition.IfMatch{Etag: "abc123"}, true},
		{[]string{`*`}, precondition.IfMatch{Any: true}, true},
		{[]string{`abc123`}, precondition.IfMatch{}, false},                              // unquoted
		{[]string{`W/"abc123"`}, precondition.IfMatch{}, false},                          // weak: never matches
		{[]string{`"a", "b"`}, precondition.IfMatch{}, false},                            // a list
		{[]string{`"a"`, `"b"`}, precondition.IfMatch{}, false},                          // a list over two lines
		{[]string{`""`}, precondition.IfMatch{}, false},                                  // empty etag
		{[]string{``}, precondition.IfMatch{}, false},                                    // empty field
		{[]string{`"a b"`}, precondition.IfMatch{}, false},                               // not etagc
		{[]string{`*, "a"`}, precondition.IfMatch{}, false},                              // "*" stands alone
		{[]string{"\"\xe6\x9d\x8e\""}, precondition.IfMatch{Etag: "\xe6\x9d\x8e"}, true}, // obs-text
	}
	for _, tt := range tests {
		got, err := precondition.Parse(tt.lines)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, ok %v", tt.lines, got, err, tt.want, tt.ok)
		}
	}
}

func services() []protoreflect.ServiceDescriptor {
	return []protoreflect.ServiceDescriptor{
		membershipv1.File_chapterhouse_membership_v1_membership_proto.Services().Get(0),
		governancev1.File_chapterhouse_governance_v1_governance_proto.Services().Get(0),
		activitiesv1.File_chapterhouse_activities_v1_activities_proto.Services().Get(0),
		standardsv1.File_chapterhouse_standards_v1_standards_proto.Services().Get(0),
	}
}

// TestWhichMethodsTakeAnEtag: read from the descriptors: every update (its
// resource's etag) and every method whose request has an etag; no create,
// read or list.
func TestWhichMethodsTakeAnEtag(t *testing.T) {
	m := precondition.New(services()...)
	for method, want := range map[string]bool{
		"/chapterhouse.membership.v1.MembershipService/UpdatePerson":          true, // PATCH: the person's etag
		"/chapterhouse.membership.v1.MembershipService/ApproveApplication":    true, // custom: the request's etag
		"/chapterhouse.activities.v1.ActivitiesService/UpdateActivity":        true,
		"/chapterhouse.standards.v1.StandardsService/CreateDraft":             true, // the standard's etag, in the request
		"/chapterhouse.governance.v1.GovernanceService/CastResolutionVote":    false,
		"/chapterhouse.membership.v1.MembershipService/CreateOrganization":    false, // its body's etag is only an answer
		"/chapterhouse.membership.v1.MembershipService/GetPerson":             false,
		"/chapterhouse.membership.v1.MembershipService/ListPeople":            false,
		"/chapterhouse.activities.v1.ActivitiesService/RegisterForActivity":   false,
		"/chapterhouse.standards.v1.StandardsService/SchedulePromotion":       false,
		"/chapterhouse.governance.v1.GovernanceService/CloseResolutionVoting": true,
	} {
		if got := m.Takes(method); got != want {
			t.Errorf("Takes(%s) = %v, want %v", method, got, want)
		}
	}
	// Every update takes one: the resources updated all have an etag
	// (platform/apilint).
	updates := 0
	for _, s := range services() {
		for i := range s.Methods().Len() {
			md := s.Methods().Get(i)
			if name := "/" + string(s.FullName()) + "/" + string(md.Name()); strings.HasPrefix(string(md.Name()), "Update") {
				updates++
				if !m.Takes(name) {
					t.Errorf("%s takes no etag", name)
				}
			}
		}
	}
	if updates < 10 {
		t.Errorf("%d updates: the services were not read", updates)
	}
}

// invoked records the request a wrapped connection sent.
type invoked struct {
	grpc.ClientConnInterface
	req proto.Message
}

func (c *invoked) Invoke(_ context.Context, _ string, args, _ any, _ ...grpc.CallOption) error {
	c.req = proto.Clone(args.(proto.Message))
	return nil
}

// TestConn: If-Match becomes the etag of the request, where the method
// takes one; a method that takes none is refused before it is called, and
// an etag already in the request that disagrees is refused.
func TestConn(t *testing.T) {
	m := precondition.New(services()...)
	const update = "/chapterhouse.membership.v1.MembershipService/UpdatePerson"
	const approve = "/chapterhouse.membership.v1.MembershipService/ApproveApplication"
	tests := []struct {
		name     string
		method   string
		ifMatch  *precondition.IfMatch
		req      proto.Message
		wantEtag string
		refused  apiv1.ErrorReason
		field    string
	}{
		{"no If-Match", update, nil, &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Etag: "body"}}, "body", 0, ""},
		{"an update", update, &precondition.IfMatch{Etag: "v1"}, &membershipv1.UpdatePersonRequest{}, "v1", 0, ""},
		{"the same etag in the body", update, &precondition.IfMatch{Etag: "v1"}, &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Etag: "v1"}}, "v1", 0, ""},
		{"another etag in the body", update, &precondition.IfMatch{Etag: "v1"}, &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Etag: "v0"}}, "", apiv1.ErrorReason_INVALID_ARGUMENT, "etag"},
		{"any version", update, &precondition.IfMatch{Any: true}, &membershipv1.UpdatePersonRequest{}, "", 0, ""},
		{"a custom method", approve, &precondition.IfMatch{Etag: "v1"}, &membershipv1.ApproveApplicationRequest{}, "v1", 0, ""},
		{"a method without an etag", "/chapterhouse.membership.v1.MembershipService/CreateOrganization", &precondition.IfMatch{Etag: "v1"},
			&membershipv1.CreateOrganizationRequest{}, "", apiv1.ErrorReason_INVALID_ARGUMENT, "If-Match"},
		{"any version of a method without an etag", "/chapterhouse.membership.v1.MembershipService/GetPerson", &precondition.IfMatch{Any: true},
			&membershipv1.GetPersonRequest{}, "", apiv1.ErrorReason_INVALID_ARGUMENT, "If-Match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := &invoked{}
			ctx := context.Background()
			if tt.ifMatch != nil {
				ctx = precondition.WithIfMatch(ctx, *tt.ifMatch)
			}
			err := m.Conn(backend).Invoke(ctx, tt.method, tt.req, nil)
			if tt.refused != 0 {
				if apierr.ReasonOf(err) != tt.refused || backend.req != nil {
					t.Fatalf("err %v (sent %v), want %s before the call", err, backend.req, tt.refused)
				}
				if !containsField(err, tt.field) {
					t.Fatalf("err %v does not name %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch r := backend.req.(type) {
			case *membershipv1.UpdatePersonRequest:
				got = r.GetPerson().GetEtag()
			case *membershipv1.ApproveApplicationRequest:
				got = r.GetEtag()
			}
			if got != tt.wantEtag {
				t.Fatalf("the service got etag %q, want %q", got, tt.wantEtag)
			}
		})
	}
}

func containsField(err error, field string) bool {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}

// TestETag: an answer with an etag carries it as a strong, quoted ETag;
// one without, none.
func TestETag(t *testing.T) {
	for _, tt := range []struct {
		m    proto.Message
		want string
	}{
		{&membershipv1.Person{Etag: "a1b2"}, `"a1b2"`},
		{&membershipv1.Person{}, ""},
		{&membershipv1.ListPeopleResponse{}, ""},
		{&membershipv1.Person{Etag: `bad"etag`}, ""},
	} {
		w := httptest.NewRecorder()
		if err := precondition.ETag(context.Background(), w, tt.m); err != nil {
			t.Fatal(err)
		}
		if got := w.Header().Get("ETag"); got != tt.want {
			t.Errorf("%T %v: ETag %q, want %q", tt.m, tt.m, got, tt.want)
		}
	}
}

// TestFailed: a stale etag is a failed If-Match only when If-Match sent it.
func TestFailed(t *testing.T) {
	stale := apierr.EtagMismatch("people/li-na")
	ctx := context.Background()
	if precondition.Failed(ctx, stale) {
		t.Error("without If-Match")
	}
	if !precondition.Failed(precondition.WithIfMatch(ctx, precondition.IfMatch{Etag: "v1"}), stale) {
		t.Error("with If-Match")
	}
	if precondition.Failed(precondition.WithIfMatch(ctx, precondition.IfMatch{Any: true}), stale) {
		t.Error("with If-Match: *")
	}
	if precondition.Failed(precondition.WithIfMatch(ctx, precondition.IfMatch{Etag: "v1"}), apierr.NotFound("people/x")) {
		t.Error("another error")
	}
}

// TestEtagIsNeverAFieldToChange: grpc-gateway derives a mask-less PATCH's
// update_mask from its body, the etag included; the etag is taken out of
// it (the services refused the update as changing a field that is not
// updatable), and still sent to be compared.
func TestEtagIsNeverAFieldToChange(t *testing.T) {
	m := precondition.New(services()...)
	for _, tt := range []struct {
		paths, want []string
	}{
		{[]string{"display_name", "etag"}, []string{"display_name"}},
		{[]string{"etag", "displayName"}, []string{"displayName"}},
		{[]string{"etag"}, []string{}},
		{[]string{"display_name"}, []string{"display_name"}},
	} {
		backend := &invoked{}
		req := &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Etag: "v0"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: tt.paths}}
		if err := m.Conn(backend).Invoke(context.Background(), "/chapterhouse.membership.v1.MembershipService/UpdatePerson", req, nil); err != nil {
			t.Fatal(err)
		}
		got := backend.req.(*membershipv1.UpdatePersonRequest)
		if paths := got.GetUpdateMask().GetPaths(); !slices.Equal(paths, tt.want) && (len(tt.want) != 0 || len(paths) != 0) {
			t.Errorf("mask %v sent as %v, want %v", tt.paths, got.GetUpdateMask().GetPaths(), tt.want)
		}
		if got.GetPerson().GetEtag() != "v0" {
			t.Errorf("the etag was dropped: %v", got)
		}
	}
	// A custom method's request has no mask to touch.
	backend := &invoked{}
	if err := m.Conn(backend).Invoke(context.Background(), "/chapterhouse.membership.v1.MembershipService/ApproveApplication",
		&membershipv1.ApproveApplicationRequest{Etag: "v0"}, nil); err != nil || backend.req.(*membershipv1.ApproveApplicationRequest).GetEtag() != "v0" {
		t.Fatalf("%v %v", err, backend.req)
	}
}
