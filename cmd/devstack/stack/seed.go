package stack

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Demo people with a printed token (SignInDemo). The first is the
// branch's first admin, linked to its identity by configuration.
const (
	AdminSubject            = "people/admin"
	GeneralSecretarySubject = "people/general-secretary"
	GeneralCouncilSubject   = "people/general-council"
	RepresentativeSubject   = "people/wang-wei"
	MemberSubject           = "people/li-na"
)

// DemoToken is one printed token: Role says what the person may do.
type DemoToken struct {
	Env, Role, Subject, Token string
}

// Seed loads branch "ai" with demo organisations, people, two members and
// a published exchange salon, through the services' gRPC APIs as the admin.
// It does nothing when the demo data is already there (a restart on a
// persistent Redis).
func (s *Stack) Seed(ctx context.Context) error {
	conn, err := grpc.NewClient(s.Addrs["membership"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("seed: dial: %w", err)
	}
	defer conn.Close()
	client := membershipv1.NewMembershipServiceClient(conn)
	// The first admin, by configuration (Start; AUTH_FIRST_ADMIN for a
	// system started elsewhere).
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.Token(AdminSubject))

	if _, err := client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/zhiyuan-ai"}); err == nil {
		return nil
	} else if status.Code(err) != codes.NotFound {
		return fmt.Errorf("seed: check: %w", err)
	}
	orgs := []struct {
		id, name, code, summary string
	}{
		{"zhiyuan-ai", "天津智元人工智能科技有限公司", "91120116MA05JR7Q0E", "Large-model applications for manufacturing"},
		{"haihe-data", "天津海河数据科技有限公司", "91120104MA06KL3W0M", "Data labelling and evaluation services"},
	}
	for _, o := range orgs {
		if _, err := client.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{OrganizationId: o.id,
			Organization: &membershipv1.Organization{DisplayName: o.name, CreditCode: o.code, AiBusinessSummary: o.summary, Address: "天津市"}}); err != nil {
			return fmt.Errorf("seed: organisation %s: %w", o.id, err)
		}
	}
	if _, err := client.SetGeneralMembership(ctx, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/zhiyuan-ai",
		State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE, Reason: "member of the general association since 2019"}); err != nil {
		return fmt.Errorf("seed: general membership: %w", err)
	}
	people := demoPeople()
	for _, p := range people {
		// Token may have made a role holder already, from the same record.
		if err := createPerson(ctx, client, "people/"+p.id); err != nil {
			return fmt.Errorf("seed: person %s: %w", p.id, err)
		}
	}
	apps := []*membershipv1.CreateApplicationRequest{
		{Parent: "branches/ai", ApplicationId: "zhiyuan-ai-2026", Application: &membershipv1.Application{
			Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/zhiyuan-ai", Representative: "people/wang-wei"}},
			Statement: "We build AI for Tianjin's manufacturers and want to help draft the branch's group standards."}},
		{Parent: "branches/ai", ApplicationId: "li-na-2026", Application: &membershipv1.Application{
			Applicant: &membershipv1.Application_Individual{Individual: &membershipv1.IndividualApplicant{Person: "people/li-na",
				AcademicCredentials: "Professor of Computer Science, Tianjin University; 60 papers on computer vision",
				Expertise:           []string{"computer vision", "AI evaluation"}}}}},
	}
	for _, req := range apps {
		app, err := client.CreateApplication(ctx, req)
		if err != nil {
			return fmt.Errorf("seed: application %s: %w", req.GetApplicationId(), err)
		}
		if _, err := client.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: app.GetName(), Reason: "seeded demo member"}); err != nil {
			return fmt.Errorf("seed: approve %s: %w", app.GetName(), err)
		}
	}
	if err := s.seedActivities(ctx); err != nil {
		return err
	}
	return s.seedGovernance(ctx)
}

// seedGovernance opens the branch's current term (届): from the start of
// last year to the end of three years on, like the general association's
// council term, so the council can be formed now.
func (s *Stack) seedGovernance(ctx context.Context) error {
	conn, err := grpc.NewClient(s.Addrs["governance"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("seed: dial governance: %w", err)
	}
	defer conn.Close()
	year := int32(time.Now().Year())
	_, err = governancev1.NewGovernanceServiceClient(conn).CreateTerm(ctx, &governancev1.CreateTermRequest{Parent: "branches/ai", Term: &governancev1.Term{
		Number: 1, StartDate: &date.Date{Year: year - 1, Month: 1, Day: 1}, EndDate: &date.Date{Year: year + 3, Month: 12, Day: 31}}})
	if err != nil {
		return fmt.Errorf("seed: term: %w", err)
	}
	return nil
}

// seedActivities publishes an upcoming exchange salon, open to the public,
// so the calendar and the A1 quota have something to show.
func (s *Stack) seedActivities(ctx context.Context) error {
	conn, err := grpc.NewClient(s.Addrs["activities"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("seed: dial activities: %w", err)
	}
	defer conn.Close()
	client := activitiesv1.NewActivitiesServiceClient(conn)
	start := time.Now().AddDate(0, 0, 14).Truncate(24 * time.Hour).Add(6 * time.Hour) // 14:00 in Tianjin
	a, err := client.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: "ai-salon", Activity: &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE, Title: "人工智能分会学术沙龙: large models in manufacturing",
		Description: "Members and guests share results on deploying large models on the factory floor.",
		StartTime:   timestamppb.New(start), EndTime: timestamppb.New(start.Add(3 * time.Hour)), TimeZone: "Asia/Shanghai",
		Location: "天津市滨海新区 (Binhai New Area), Tianjin", Capacity: 80, Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
	}})
	if err != nil {
		return fmt.Errorf("seed: activity: %w", err)
	}
	if _, err := client.PublishActivity(ctx, &activitiesv1.PublishActivityRequest{Name: a.GetName()}); err != nil {
		return fmt.Errorf("seed: publish activity: %w", err)
	}
	return nil
}

// demoPerson is one seeded person: the seed creates them, and the embedded
// identity provider lets each sign in (DemoUsers).
type demoPerson struct {
	id string
	p  *membershipv1.Person
}

// demoPeople are the seeded people.
func demoPeople() []demoPerson {
	return []demoPerson{
		{"admin", &membershipv1.Person{DisplayName: "Branch Secretariat", BirthDate: &date.Date{Year: 1985, Month: 3, Day: 1}}},
		{"general-secretary", &membershipv1.Person{DisplayName: "刘秘书长 (General Association Secretary-General)", BirthDate: &date.Date{Year: 1968, Month: 6, Day: 12}}},
		{"general-council", &membershipv1.Person{DisplayName: "General Association Council", BirthDate: &date.Date{Year: 1970, Month: 1, Day: 1}}},
		{"wang-wei", &membershipv1.Person{DisplayName: "王伟", BirthDate: &date.Date{Year: 1975, Month: 9, Day: 20},
			Organization: "organizations/zhiyuan-ai", Rank: membershipv1.Rank_RANK_VICE_PRESIDENT, Title: "副总经理",
			Expertise: []string{"large language models"}, Contact: &membershipv1.ContactInfo{Email: "wang.wei@example.com", Phone: "+86 22 5555 0101"}}},
		{"zhao-lei", &membershipv1.Person{DisplayName: "赵磊", BirthDate: &date.Date{Year: 1980, Month: 2, Day: 14},
			Organization: "organizations/haihe-data", Rank: membershipv1.Rank_RANK_PRESIDENT, Title: "总经理"}},
		{"li-na", &membershipv1.Person{DisplayName: "李娜", BirthDate: &date.Date{Year: 1979, Month: 11, Day: 3},
			Expertise: []string{"computer vision", "AI evaluation"}, AcademicCredentials: "Professor of Computer Science, Tianjin University; 60 papers on computer vision"}},
		{"sun-mei", &membershipv1.Person{DisplayName: "孙梅", BirthDate: &date.Date{Year: 1988, Month: 7, Day: 9},
			Organization: "organizations/zhiyuan-ai", Rank: membershipv1.Rank_RANK_MANAGER, Title: "综合管理部经理"}},
		{"chen-lao", &membershipv1.Person{DisplayName: "陈老", BirthDate: &date.Date{Year: 1950, Month: 4, Day: 1},
			Organization: "organizations/zhiyuan-ai", Rank: membershipv1.Rank_RANK_SENIOR_MANAGER, Title: "顾问"}},
	}
}
