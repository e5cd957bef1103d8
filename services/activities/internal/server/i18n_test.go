package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// theseMembers are the branch's members: person → member.
type theseMembers map[string]string

func (m theseMembers) MemberFor(_ context.Context, _, person string) (string, error) {
	return m[person], nil
}
func (theseMembers) DisplayName(_ context.Context, p string) (string, error) { return p, nil }

// fact is what a refusal's text must name in every language
// (servicetest.Fact).
type fact = servicetest.Fact

var (
	literal = servicetest.Literal
	term    = servicetest.Term
)

// TestRefusalsInBothLanguages holds the promise that every refusal a
// person reads says the same facts in zh-CN and in en: each is called
// through the real gRPC path (the server's interceptors render it) with
// accept-language zh-CN and en, and each language's text, its
// google.rpc.LocalizedMessage, every charter violation's and every field
// violation's, must name every fact (each term in its own language), with
// no enum value spelt as code; the zh-CN texts are Chinese, the en ones
// the status message itself. Charter refusals carry every rule they
// break, by its code.
func TestRefusalsInBothLanguages(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	members := theseMembers{"people/alice": "branches/ai/members/m1", "people/bob": "branches/ai/members/m1", "people/carol": "branches/ai/members/m2"}
	svc := servicetest.Serve(t, "activities", func(s *grpc.Server) {
		activitiesv1.RegisterActivitiesServiceServer(s, server.New(domain.NewService(store.New(rdb, nil), members,
			domain.Config{Branches: aiBranch(leader.Subject), Pages: pagetoken.NewEphemeral()})))
	}, servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	as := func(r servicetest.Role) context.Context { return svc.AsRole(t, r) }

	now := time.Now().Truncate(time.Second)
	shanghai, err := time.LoadLocation(domain.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	local := func(at time.Time) string { return at.In(shanghai).Format(time.RFC3339) }
	create := func(id string, a *activitiesv1.Activity) string {
		t.Helper()
		if a.Location == "" {
			a.Location = "天津"
		}
		if a.Audience == 0 {
			a.Audience = activitiesv1.Audience_AUDIENCE_MEMBERS
		}
		a.Title, a.Organizer = id, organizer.Subject
		got, err := c.CreateActivity(as(admin), &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: id, Activity: a})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetName()
	}
	underWay := func(id string, kind activitiesv1.ActivityKind, capacity int32) string {
		t.Helper()
		name := create(id, &activitiesv1.Activity{Kind: kind, Capacity: capacity, StartTime: timestamppb.New(now.Add(-time.Hour)),
			EndTime: timestamppb.New(now.Add(2 * time.Hour)), RegistrationCloseTime: timestamppb.New(now.Add(2 * time.Hour))})
		if _, err := c.PublishActivity(as(admin), &activitiesv1.PublishActivityRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	register := func(activity, person string) string {
		t.Helper()
		r, err := c.RegisterForActivity(as(admin), &activitiesv1.RegisterForActivityRequest{Name: activity, Person: person})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetName()
	}

	// A completed exchange alice attended; a published exchange, under
	// way, where bob is confirmed; a training that has not begun; one
	// whose registration has closed.
	salon := underWay("salon", activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE, 0)
	salonAlice := register(salon, "people/alice")
	if _, err := c.CheckInRegistration(as(admin), &activitiesv1.CheckInRegistrationRequest{Name: salonAlice}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteActivity(as(admin), &activitiesv1.CompleteActivityRequest{Name: salon}); err != nil {
		t.Fatal(err)
	}
	forum := underWay("forum", activitiesv1.ActivityKind_ACTIVITY_KIND_INDUSTRY_EXCHANGE, 5)
	forumBob := register(forum, "people/bob")
	register(forum, "people/alice")
	cancelledReg := register(forum, "people/carol")
	if _, err := c.CancelRegistration(as(admin), &activitiesv1.CancelRegistrationRequest{Name: cancelledReg}); err != nil {
		t.Fatal(err)
	}
	start := now.Add(72 * time.Hour)
	training := create("training", &activitiesv1.Activity{Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(3 * time.Hour))})
	if _, err := c.PublishActivity(as(admin), &activitiesv1.PublishActivityRequest{Name: training}); err != nil {
		t.Fatal(err)
	}
	trainingAlice := register(training, "people/alice")
	closedAt := now.Add(-30 * time.Minute)
	late := create("late", &activitiesv1.Activity{Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING, Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
		StartTime: timestamppb.New(now.Add(-time.Hour)), EndTime: timestamppb.New(now.Add(time.Hour)), RegistrationCloseTime: timestamppb.New(closedAt)})
	if _, err := c.PublishActivity(as(admin), &activitiesv1.PublishActivityRequest{Name: late}); err != nil {
		t.Fatal(err)
	}

	issue := func(registration string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.IssueCertificate(ctx, &activitiesv1.IssueCertificateRequest{Registration: registration})
			return err
		}
	}
	update := func(patch *activitiesv1.Activity, paths ...string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.UpdateActivity(ctx, &activitiesv1.UpdateActivityRequest{Activity: patch, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
			return err
		}
	}
	tests := []struct {
		name   string
		caller servicetest.Role
		call   func(context.Context) error
		code   codes.Code
		// rules are the charter rules broken, by code; subjects the
		// violations' reasons.
		rules    []string
		subjects []string
		facts    []fact
	}{
		{"S2: a standards promotion without its standard", admin, func(ctx context.Context) error {
			_, err := c.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", Activity: &activitiesv1.Activity{
				Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION, Title: "Promoting T/TJSIA 001", Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
				StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour))}})
			return err
		}, codes.FailedPrecondition, []string{"S2"}, []string{"RELATED_STANDARD_REQUIRED"}, []fact{literal("Promoting T/TJSIA 001")}},
		{"S2: a standards promotion naming something else", admin, func(ctx context.Context) error {
			_, err := c.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", Activity: &activitiesv1.Activity{
				Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION, Title: "Promotion", RelatedStandard: "branches/ai/activities/salon",
				Audience: activitiesv1.Audience_AUDIENCE_PUBLIC, StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour))}})
			return err
		}, codes.FailedPrecondition, []string{"S2"}, []string{"RELATED_STANDARD_REQUIRED"}, []fact{literal("Promotion"), literal("branches/ai/activities/salon")}},
		{"A2: no certificate for an exchange", admin, issue(salonAlice), codes.FailedPrecondition, []string{"A2"}, []string{"NOT_CERTIFIABLE"},
			[]fact{literal(salon), term("ACTIVITY_KIND_ACADEMIC_EXCHANGE")}},
		{"A2: every rule at once: an exchange, not completed, not attended", admin, issue(forumBob), codes.FailedPrecondition, []string{"A2"},
			[]string{"NOT_CERTIFIABLE", "ACTIVITY_NOT_COMPLETED", "NOT_ATTENDED"},
			[]fact{literal(forum), term("ACTIVITY_KIND_INDUSTRY_EXCHANGE"), term("ACTIVITY_STATE_PUBLISHED"), literal("people/bob"), literal(forumBob), term("REGISTRATION_STATE_CONFIRMED")}},
		{"A2: a training not yet held", admin, issue(trainingAlice), codes.FailedPrecondition, []string{"A2"}, []string{"ACTIVITY_NOT_COMPLETED", "NOT_ATTENDED"},
			[]fact{literal(training), term("ACTIVITY_STATE_PUBLISHED"), literal("people/alice"), literal(trainingAlice), term("REGISTRATION_STATE_CONFIRMED")}},

		{"members only", stranger, func(ctx context.Context) error {
			_, err := c.RegisterForActivity(ctx, &activitiesv1.RegisterForActivityRequest{Name: forum})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(forum), literal(stranger.Subject)}},
		{"registration closed", stranger, func(ctx context.Context) error {
			_, err := c.RegisterForActivity(ctx, &activitiesv1.RegisterForActivityRequest{Name: late})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(late), literal(local(closedAt))}},
		{"a completed activity is not published again", admin, func(ctx context.Context) error {
			_, err := c.PublishActivity(ctx, &activitiesv1.PublishActivityRequest{Name: salon})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(salon), term("ACTIVITY_STATE_COMPLETED"), term("publish"), term("none")}},
		{"a cancelled registration is not cancelled again", admin, func(ctx context.Context) error {
			_, err := c.CancelRegistration(ctx, &activitiesv1.CancelRegistrationRequest{Name: cancelledReg})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(cancelledReg), term("REGISTRATION_STATE_CANCELLED"), term("cancel"), term("register")}},
		{"not yet started", admin, func(ctx context.Context) error {
			_, err := c.CompleteActivity(ctx, &activitiesv1.CompleteActivityRequest{Name: training})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(training), literal(local(start))}},
		{"check-in opens the day before", admin, func(ctx context.Context) error {
			_, err := c.CheckInRegistration(ctx, &activitiesv1.CheckInRegistrationRequest{Name: trainingAlice})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(training), literal(local(start.Add(-24 * time.Hour)))}},
		{"capacity below the confirmed", admin, update(&activitiesv1.Activity{Name: forum, Capacity: 1}, "capacity"),
			codes.FailedPrecondition, nil, nil, []fact{literal("1"), literal("2")}},
		{"organisers only", stranger, func(ctx context.Context) error {
			_, err := c.CancelActivity(ctx, &activitiesv1.CancelActivityRequest{Name: forum, Reason: "rain"})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(forum), term("cancel")}},
		{"fields: every one, with its facts", admin, func(ctx context.Context) error {
			_, err := c.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", Activity: &activitiesv1.Activity{
				Title: "x", TimeZone: "Mars/Olympus", StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(-time.Hour))}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("activity.kind"), term("ACTIVITY_KIND_STANDARD_PROMOTION"), literal("activity.audience"),
			term("AUDIENCE_MEMBERS"), literal("activity.end_time"), literal("Mars/Olympus")}},
		{"update mask: set by the server", admin, update(&activitiesv1.Activity{Name: forum}, "kind", "confirmedCount"),
			codes.InvalidArgument, nil, nil, []fact{literal("update_mask"), literal("confirmedCount")}},
		{"update mask: fixed once published", admin, update(&activitiesv1.Activity{Name: forum}, "kind", "audience"),
			codes.InvalidArgument, nil, nil, []fact{literal("kind"), literal("audience")}},
		{"no such verification code", anonymous, func(ctx context.Context) error {
			_, err := c.VerifyCertificate(ctx, &activitiesv1.VerifyCertificateRequest{VerificationCode: "k7q3 m9xd 4hrt"})
			return err
		}, codes.NotFound, nil, nil, []fact{literal("K7Q3-M9XD-4HRT")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			said := servicetest.RefusedInEveryLanguage(t, as(tt.caller), tt.call, servicetest.Refusal{Code: tt.code, Rules: tt.rules, Subjects: tt.subjects, Facts: tt.facts})
			t.Logf("en:    %s", said[i18n.English])
			t.Logf("zh-CN: %s", said[i18n.Chinese])
		})
	}
}
