package app_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/privacy"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/app"

	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"
)

// The private fields of a person, as paths; privateFields holds the list
// to Person's declaration, so a new private field fails the matrix until
// its expectations are written.
var privateFields = []string{"birth_date", "birth_date_attestation", "contact.email", "contact.phone"}

// The kinds of caller. "the person" is the person whose record a call
// returns; the services act for another individual member, with their
// service credential beside that member's token.
const (
	kAnonymous  = "anonymous"
	kPerson     = "the person"
	kOther      = "another individual member"
	kRep        = "a unit representative"
	kAdmin      = "admin"
	kSecretary  = "general_secretary"
	kCouncil    = "general_council"
	kGovernance = "governance, for another member"
	kActivities = "activities, for another member"
	kStandards  = "standards, for another member"
)

var kinds = []string{kAnonymous, kPerson, kOther, kRep, kAdmin, kSecretary, kCouncil, kGovernance, kActivities, kStandards}

// mayRead is the rule, written out as the proto declares it: birth date and
// its attestation for the person, admins and governance (G4); contact for
// the person and admins. Nobody else reads any of them.
var mayRead = map[string][]string{
	kPerson:     privateFields,
	kAdmin:      privateFields,
	kGovernance: {"birth_date", "birth_date_attestation"},
}

// fieldSet reports whether path is set in p.
func fieldSet(p *membershipv1.Person, path string) bool {
	switch path {
	case "birth_date":
		return p.GetBirthDate() != nil
	case "birth_date_attestation":
		return p.GetBirthDateAttestation() != nil
	case "contact.email":
		return p.GetContact().GetEmail() != ""
	case "contact.phone":
		return p.GetContact().GetPhone() != ""
	}
	panic("unknown private field " + path)
}

// declaredPrivate lists the private fields of Person as the proto declares
// them, nested ones as paths.
func declaredPrivate(md protoreflect.MessageDescriptor, prefix string) []string {
	var out []string
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		path := prefix + string(fd.Name())
		if fd.Message() != nil && privacy.HoldsPrivate(fd.Message()) {
			out = append(out, declaredPrivate(fd.Message(), path+".")...)
		} else if privacy.ReadersOf(fd) != nil {
			out = append(out, path)
		}
	}
	return out
}

// privacyWorld: branch ai with two individual members (li-na, zhou-min)
// and a unit member (zhiyuan, represented by wang-wei); li-na's record has
// every private field, attested by an admin.
type privacyWorld struct {
	svc *servicetest.Running
	c   membershipv1.MembershipServiceClient
}

func newPrivacyWorld(t *testing.T) *privacyWorld {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	if err := gstreams.AnnounceBranch(context.Background(), rdb, &governancev1.Branch{Name: "branches/ai", DisplayName: "人工智能分会"}); err != nil {
		t.Fatal(err)
	}
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg})
	}, servicetest.CheckNames())
	w := &privacyWorld{svc: svc, c: membershipv1.NewMembershipServiceClient(svc.Conn)}
	admin := svc.Admin(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.c.CreateOrganization(admin, &membershipv1.CreateOrganizationRequest{OrganizationId: "zhiyuan",
		Organization: &membershipv1.Organization{DisplayName: "智源", CreditCode: "91120116MA05JR7Q0E"}}))
	must(w.c.SetGeneralMembership(admin, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/zhiyuan", State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE}))
	for _, id := range []string{"li-na", "zhou-min", "wang-wei"} {
		org := ""
		if id == "wang-wei" {
			org = "organizations/zhiyuan"
		}
		must(w.c.CreatePerson(admin, &membershipv1.CreatePersonRequest{PersonId: id, Person: &membershipv1.Person{DisplayName: id,
			BirthDate: &date.Date{Year: 1979, Month: 11, Day: 3}, Organization: org,
			Contact: &membershipv1.ContactInfo{Email: id + "@example.org", Phone: "+86 22 2345 6789"}}}))
	}
	// Branches are governance's: wait until membership has learnt ai.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := w.c.ListMembers(admin, &membershipv1.ListMembersRequest{Parent: "branches/ai"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("branch ai still unknown: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	admit := func(a *membershipv1.Application) {
		t.Helper()
		created, err := w.c.CreateApplication(admin, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: a})
		must(created, err)
		must(w.c.ApproveApplication(admin, &membershipv1.ApproveApplicationRequest{Name: created.GetName()}))
	}
	for _, id := range []string{"li-na", "zhou-min"} {
		admit(&membershipv1.Application{Applicant: &membershipv1.Application_Individual{Individual: &membershipv1.IndividualApplicant{
			Person: "people/" + id, AcademicCredentials: "Professor of computer vision, Tianjin University; 40 papers on evaluation.",
			Expertise: []string{"computer vision"}}}})
	}
	admit(&membershipv1.Application{Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{
		Organization: "organizations/zhiyuan", Representative: "people/wang-wei"}}})
	return w
}

// role is the caller of kind for a record about subject.
func role(kind, subject string) servicetest.Role {
	switch kind {
	case kPerson:
		return servicetest.Role{Name: kind, Subject: subject}
	case kOther:
		return servicetest.Role{Name: kind, Subject: "people/zhou-min"}
	case kRep:
		return servicetest.Role{Name: kind, Subject: "people/wang-wei"}
	case kAdmin:
		return servicetest.Role{Name: kind, Subject: "people/admin", Roles: []string{auth.RoleAdmin}}
	case kSecretary:
		return servicetest.Role{Name: kind, Subject: "people/general-secretary", Roles: []string{auth.RoleGeneralSecretary}}
	case kCouncil:
		return servicetest.Role{Name: kind, Subject: "people/general-council", Roles: []string{auth.RoleGeneralCouncil}}
	case kGovernance, kActivities, kStandards:
		return servicetest.Role{Name: kind, Subject: "people/zhou-min", Service: strings.Split(kind, ",")[0]}
	}
	return servicetest.Anonymous
}

// matrixRow is one method's call returning a person's record: the person
// it is about (for each kind of caller), and the call as one caller.
type matrixRow struct {
	method  string
	label   string
	subject func(kind string) string
	call    func(ctx context.Context, kind string, opts ...grpc.CallOption) (*membershipv1.Person, error)
}

func withKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, grpcserver.IdempotencyKeyHeader, key)
}

// TestPrivacyMatrix holds the privacy rule field by field: every
// MembershipService method that returns a person's record, called through
// the real gRPC server by every kind of caller, shows each private field
// exactly to its readers (mayRead); everyone else gets the record without
// it, or is refused the call. A write's Idempotency-Key replay shows the
// same as its first answer.
func TestPrivacyMatrix(t *testing.T) {
	w := newPrivacyWorld(t)
	linaOf := func(string) string { return "people/li-na" }
	created := func(kind string) string {
		return "people/created-by-" + strings.NewReplacer(" ", "-", ",", "", "_", "-").Replace(kind)
	}
	rows := []matrixRow{
		{method: "GetPerson", subject: linaOf, call: func(ctx context.Context, _ string, opts ...grpc.CallOption) (*membershipv1.Person, error) {
			return w.c.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: "people/li-na"}, opts...)
		}},
		{method: "ListPeople", subject: linaOf, call: func(ctx context.Context, _ string, opts ...grpc.CallOption) (*membershipv1.Person, error) {
			page, err := w.c.ListPeople(ctx, &membershipv1.ListPeopleRequest{PageSize: 100}, opts...)
			if err != nil {
				return nil, err
			}
			for _, p := range page.GetPeople() {
				if p.GetName() == "people/li-na" {
					return p, nil
				}
			}
			return nil, fmt.Errorf("li-na is not listed")
		}},
		{method: "UpdatePerson", subject: linaOf, call: func(ctx context.Context, _ string, opts ...grpc.CallOption) (*membershipv1.Person, error) {
			return w.c.UpdatePerson(ctx, &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Name: "people/li-na", Title: "Professor"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}}, opts...)
		}},
		// An admin registers someone with every private field; nobody else
		// may (the attested facts are admins' to state).
		{method: "CreatePerson", subject: created, call: func(ctx context.Context, kind string, opts ...grpc.CallOption) (*membershipv1.Person, error) {
			return w.c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: strings.TrimPrefix(created(kind), "people/"), Person: &membershipv1.Person{
				DisplayName: "new", BirthDate: &date.Date{Year: 1990, Month: 1, Day: 1}, Contact: &membershipv1.ContactInfo{Email: "new@example.org", Phone: "+86 22 3456 7890"}}}, opts...)
		}},
		// People register themselves with their contact; "the person" here
		// is a newcomer.
		{method: "CreatePerson", label: "self-registration", subject: func(string) string { return "people/newcomer" },
			call: func(ctx context.Context, kind string, opts ...grpc.CallOption) (*membershipv1.Person, error) {
				id := "newcomer"
				if kind == kAdmin {
					id = "newcomer-by-admin"
				}
				return w.c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: id, Person: &membershipv1.Person{
					DisplayName: "newcomer", Contact: &membershipv1.ContactInfo{Email: "newcomer@example.org", Phone: "+86 22 4567 8901"}}}, opts...)
			}},
	}

	// The rows cover every method whose response can hold a private field,
	// and the fields are Person's private ones.
	if got := declaredPrivate((&membershipv1.Person{}).ProtoReflect().Descriptor(), ""); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(privateFields))) {
		t.Fatalf("Person declares private fields %v; the matrix knows %v", got, privateFields)
	}
	var want, have []string
	methods := membershipv1.File_chapterhouse_membership_v1_membership_proto.Services().Get(0).Methods()
	for i := 0; i < methods.Len(); i++ {
		if privacy.HoldsPrivate(methods.Get(i).Output()) {
			want = append(want, string(methods.Get(i).Name()))
		}
	}
	for _, r := range rows {
		if !slices.Contains(have, r.method) {
			have = append(have, r.method)
		}
	}
	sort.Strings(want)
	sort.Strings(have)
	if !slices.Equal(want, have) {
		t.Fatalf("methods returning private fields %v; the matrix calls %v", want, have)
	}

	var table []string
	for _, r := range rows {
		name := r.method
		if r.label != "" {
			name += " (" + r.label + ")"
		}
		for _, kind := range kinds {
			t.Run(name+"/"+kind, func(t *testing.T) {
				caller := role(kind, r.subject(kind))
				ctx := w.svc.AsRole(t, caller)
				key := ""
				read := strings.HasPrefix(r.method, "Get") || strings.HasPrefix(r.method, "List")
				if !read {
					key = "privacy-" + name + "-" + kind
				}
				got, err := r.call(withKey(ctx, key), kind)
				if err != nil {
					// Refused: the caller is shown nothing at all.
					// Admins may make every call, and the person every call
					// but registering themselves with attested facts.
					if kind == kAdmin || (kind == kPerson && (r.method != "CreatePerson" || r.label != "")) {
						t.Fatalf("%s refused: %v", kind, err)
					}
					if read && kind != kAnonymous {
						t.Fatalf("%s refused a read any signed-in caller may make: %v", kind, err)
					}
					table = append(table, fmt.Sprintf("%-40s %-32s refused", name, kind))
					return
				}
				// What the record holds, read by an admin, against what
				// this caller was shown.
				stored, err := w.c.GetPerson(w.svc.Admin(t), &membershipv1.GetPersonRequest{Name: got.GetName()})
				if err != nil {
					t.Fatal(err)
				}
				var cells []string
				for _, f := range privateFields {
					if !fieldSet(stored, f) {
						cells = append(cells, f+"=unset")
						continue
					}
					allowed := slices.Contains(mayRead[kindFor(kind, got.GetName(), caller)], f)
					if shown := fieldSet(got, f); shown != allowed {
						t.Errorf("%s: %s shown = %v, want %v", kind, f, shown, allowed)
					}
					cells = append(cells, fmt.Sprintf("%s=%v", f, allowed))
				}
				if key != "" {
					var hdr metadata.MD
					again, err := r.call(withKey(w.svc.AsRole(t, caller), key), kind, grpc.Header(&hdr))
					if err != nil || len(hdr.Get("idempotent-replay")) != 1 {
						t.Fatalf("replay: %v (header %v)", err, hdr)
					}
					for _, f := range privateFields {
						if fieldSet(again, f) != fieldSet(got, f) {
							t.Errorf("%s: the replay shows %s = %v, the first answer %v", kind, f, fieldSet(again, f), fieldSet(got, f))
						}
					}
				}
				table = append(table, fmt.Sprintf("%-40s %-32s %s", name, kind, strings.Join(cells, " ")))
			})
		}
	}
	t.Log("the matrix, as exercised:\n" + strings.Join(table, "\n"))
}

// kindFor is the caller's kind relative to the record it was shown: the
// person themselves, whoever called, when the record is theirs.
func kindFor(kind, record string, caller servicetest.Role) string {
	if caller.Subject == record && caller.Service == "" {
		return kPerson
	}
	return kind
}

// TestReplayShowsNoMoreThanItsCaller: an Idempotency-Key replay returns
// the response stored for the first call, which held every private field
// (an admin's); replayed to the same person signed in without the admin
// role, it holds none of them. Another caller's identical request
// with the same key is not a replay of it (keys are per caller): it runs,
// and is refused.
func TestReplayShowsNoMoreThanItsCaller(t *testing.T) {
	w := newPrivacyWorld(t)
	req := &membershipv1.CreatePersonRequest{PersonId: "replayed", Person: &membershipv1.Person{DisplayName: "replayed",
		BirthDate: &date.Date{Year: 1990, Month: 1, Day: 1}, Contact: &membershipv1.ContactInfo{Email: "replayed@example.org"}}}
	call := func(ctx context.Context) (*membershipv1.Person, []string, error) {
		var hdr metadata.MD
		p, err := w.c.CreatePerson(withKey(ctx, "replay-key"), req, grpc.Header(&hdr))
		return p, hdr.Get("idempotent-replay"), err
	}
	first, _, err := call(w.svc.Admin(t))
	if err != nil || first.GetBirthDate() == nil || first.GetContact() == nil {
		t.Fatalf("the admin's answer: %v, %v", first, err)
	}
	demoted, replay, err := call(w.svc.As(t, servicetest.AdminSubject))
	if err != nil || len(replay) != 1 {
		t.Fatalf("the replay: %v (replay header %v)", err, replay)
	}
	if demoted.GetBirthDate() != nil || demoted.GetBirthDateAttestation() != nil || demoted.GetContact() != nil || demoted.GetName() != "people/replayed" {
		t.Fatalf("replayed to a caller who may not read them: %v", demoted)
	}
	if p, replay, err := call(w.svc.AsRole(t, role(kOther, ""))); err == nil || len(replay) != 0 {
		t.Fatalf("another caller with the same key: %v, %v (replay header %v)", p, err, replay)
	}
}
