package apilint

import (
	"slices"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// TestFieldRules: the buf.validate rules in the protos, case by case. Each
// case names the fields it expects refused; the servers' validation
// interceptor turns exactly these into the INVALID_ARGUMENT field
// violations clients see.
func TestFieldRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("字", n) }
	tests := []struct {
		name   string
		msg    proto.Message
		fields []string
	}{
		// Resource ids: one rule (chapterhouse.api.v1.resource_id).
		{"person id: numeric is fine", &membershipv1.CreatePersonRequest{PersonId: "1", Person: &membershipv1.Person{}}, nil},
		{"person id: required", &membershipv1.CreatePersonRequest{Person: &membershipv1.Person{}}, []string{"person_id"}},
		{"person id: upper case", &membershipv1.CreatePersonRequest{PersonId: "Chen", Person: &membershipv1.Person{}}, []string{"person_id"}},
		{"person id: trailing hyphen", &membershipv1.CreatePersonRequest{PersonId: "chen-", Person: &membershipv1.Person{}}, []string{"person_id"}},
		{"person id: 64 characters", &membershipv1.CreatePersonRequest{PersonId: strings.Repeat("a", 64), Person: &membershipv1.Person{}}, []string{"person_id"}},
		{"organization id: optional", &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{}}, nil},
		{"organization id: underscore", &membershipv1.CreateOrganizationRequest{OrganizationId: "a_b", Organization: &membershipv1.Organization{}}, []string{"organization_id"}},
		{"application id: slash", &membershipv1.CreateApplicationRequest{Parent: "branches/ai", ApplicationId: "a/b", Application: &membershipv1.Application{}}, []string{"application_id"}},
		{"activity id: ok", &activitiesv1.CreateActivityRequest{ActivityId: "salon-2026", Activity: &activitiesv1.Activity{}}, nil},
		{"activity id: dot", &activitiesv1.CreateActivityRequest{ActivityId: "salon.2026", Activity: &activitiesv1.Activity{}}, []string{"activity_id"}},

		// Lengths count characters, not bytes.
		{"person name: 100 characters", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{DisplayName: long(100)}}, nil},
		{"person name: 101 characters", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{DisplayName: long(101)}}, []string{"person.display_name"}},
		{"organisation name: 201 characters", &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: long(201)}}, []string{"organization.display_name"}},
		{"address, summary", &membershipv1.UpdateOrganizationRequest{Organization: &membershipv1.Organization{Address: long(501), AiBusinessSummary: long(2001)}},
			[]string{"organization.address", "organization.ai_business_summary"}},
		{"title, credentials", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Title: long(101), AcademicCredentials: long(4001)}},
			[]string{"person.title", "person.academic_credentials"}},
		{"expertise: 21 areas", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Expertise: make([]string, 21)}}, []string{"person.expertise"}},
		{"expertise: a long area", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Expertise: []string{"NLP", long(101)}}}, []string{"person.expertise[1]"}},
		{"statement", &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{Statement: long(4001)}}, []string{"application.statement"}},
		{"individual credentials", &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
			Applicant: &membershipv1.Application_Individual{Individual: &membershipv1.IndividualApplicant{AcademicCredentials: long(4001)}}}},
			[]string{"application.individual.academic_credentials"}},
		{"reject reason", &membershipv1.RejectApplicationRequest{Reason: long(1001)}, []string{"reason"}},
		{"invitation code: required", &membershipv1.ClaimInvitationRequest{}, []string{"code"}},
		{"invitation code: a token", &membershipv1.ClaimInvitationRequest{Code: "AB CD"}, []string{"code"}},
		{"invitation code: 129 characters", &membershipv1.ClaimInvitationRequest{Code: strings.Repeat("A", 129)}, []string{"code"}},
		{"invitation code: ok", &membershipv1.ClaimInvitationRequest{Code: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}, nil},
		{"revoke reasons: required, at most 1000", &membershipv1.RevokeInvitationRequest{Reason: long(1001)}, []string{"reason"}},
		{"unlink reason: required", &membershipv1.UnlinkAccountRequest{}, []string{"reason"}},
		{"role binding: reason, role", &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{Reason: long(1001), Role: 99}},
			[]string{"role_binding.reason", "role_binding.role"}},
		{"role binding revoke reason: required", &membershipv1.RevokeRoleBindingRequest{}, []string{"reason"}},
		{"terminate reason", &membershipv1.TerminateMemberRequest{Reason: long(1001)}, []string{"reason"}},
		{"activity texts", &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Title: long(201), Description: long(20001), Location: long(501)}},
			[]string{"activity.title", "activity.description", "activity.location"}},
		{"cancel reason", &activitiesv1.CancelActivityRequest{Reason: long(1001)}, []string{"reason"}},
		{"certificate title", &activitiesv1.IssueCertificateRequest{Title: long(201)}, []string{"title"}},

		// Formats and ranges.
		{"contact: valid", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Contact: &membershipv1.ContactInfo{Email: "chen.jie@example.com", Phone: "+86 22 5555 0101"}}}, nil},
		{"contact: bad email and phone", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Contact: &membershipv1.ContactInfo{Email: "nope", Phone: "call me"}}},
			[]string{"person.contact.email", "person.contact.phone"}},
		{"rank: unknown value", &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Rank: 99}}, []string{"person.rank"}},
		{"general membership: unknown state", &membershipv1.SetGeneralMembershipRequest{State: 9}, []string{"state"}},
		{"member filter: unknown state", &membershipv1.ListMembersRequest{State: 9}, []string{"state"}},
		{"capacity: negative", &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Capacity: -1}}, []string{"activity.capacity"}},
		{"capacity: over the maximum", &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Capacity: 100001}}, []string{"activity.capacity"}},
		{"activity: unknown kind and audience", &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Kind: 42, Audience: 7}},
			[]string{"activity.kind", "activity.audience"}},
		{"activity filter: year", &activitiesv1.ListActivitiesRequest{Year: 10000}, []string{"year"}},
		{"activity filter: unknown kind and state", &activitiesv1.ListActivitiesRequest{Kind: 42, State: 42}, []string{"kind", "state"}},
		{"quota: negative year", &activitiesv1.GetAnnualQuotaRequest{Year: -1}, []string{"year"}},
		{"registration filter: unknown state", &activitiesv1.ListRegistrationsRequest{State: 9}, []string{"state"}},
		{"verification code: too long", &activitiesv1.VerifyCertificateRequest{VerificationCode: long(65)}, []string{"verification_code"}},

		// Text a person writes (issue 16, item 6): one line takes no
		// control or invisible formatting character; several lines take
		// line breaks and tabs but no other control character and no
		// bidirectional control; neither may be blank when given.
		{"comment: a name and a text", &standardsv1.CreateCommentRequest{Comment: &standardsv1.Comment{Clause: "5.2", Text: "第一段。\n\t第二段 👩‍💻",
			CommenterName: "赵老师，天津某高校"}}, nil},
		{"comment: NUL and ESC", &standardsv1.CreateCommentRequest{Comment: &standardsv1.Comment{Clause: "5\x00", Text: "\x1b[31m红色\x1b[0m",
			CommenterName: "a\x1b]0;title\x07"}}, []string{"comment.clause", "comment.text", "comment.commenter_name"}},
		{"comment: a name over two lines", &standardsv1.CreateCommentRequest{Comment: &standardsv1.Comment{Clause: "5", Text: "x",
			CommenterName: "赵老师\r\n管理员"}}, []string{"comment.commenter_name"}},
		{"comment: bidirectional overrides", &standardsv1.CreateCommentRequest{Comment: &standardsv1.Comment{Clause: "5", Text: "正常\u202egnp.exe",
			CommenterName: "\u2066张三\u2069"}}, []string{"comment.text", "comment.commenter_name"}},
		{"comment: blank after normalising", &standardsv1.CreateCommentRequest{Comment: &standardsv1.Comment{Clause: "\u3000 \u00a0", Text: " \n\t ",
			CommenterName: "\u200b\u200b"}}, []string{"comment.clause", "comment.text",
			// Zero-width spaces are formatting characters, and nothing visible.
			"comment.commenter_name", "comment.commenter_name"}},
		{"paper comment: one named commenter", &standardsv1.RecordPaperCommentRequest{Clause: "5.2", Text: "来函意见",
			CommenterName: "钱教授", CommenterOrganization: "天津某大学"}, nil},
		{"paper comment: empty, and a name over two lines", &standardsv1.RecordPaperCommentRequest{CommenterName: "钱\n教授",
			CommenterOrganization: long(201)}, []string{"clause", "text", "commenter_name", "commenter_organization"}},
		{"recorded ballots: a show of hands", &governancev1.RecordResolutionBallotsRequest{Meeting: "branches/ai/meetings/m1",
			Method: governancev1.BallotMethod_BALLOT_METHOD_SHOW_OF_HANDS, Ballots: []*governancev1.RecordedBallot{
				{Voter: "people/wang-wei", Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}}}, nil},
		{"recorded ballots: none, no method, a meeting name too long", &governancev1.RecordResolutionBallotsRequest{Meeting: long(201)},
			[]string{"meeting", "method", "ballots"}},
		{"recorded ballots: a ballot without a choice", &governancev1.RecordResolutionBallotsRequest{
			Method: governancev1.BallotMethod_BALLOT_METHOD_PAPER, Ballots: []*governancev1.RecordedBallot{{Voter: "people/li-na"}}},
			[]string{"ballots[0].choice"}},
		{"resolution: a title with a zero-width space", &governancev1.CreateResolutionRequest{Resolution: &governancev1.Resolution{Title: "批准\u200b发布"}},
			[]string{"resolution.title"}},
		{"activity: a multi-line description", &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Description: "议程：\r\n1. 开场\r\n2. 报告"}}, nil},
		{"etag: not a server's token", &activitiesv1.PublishActivityRequest{Etag: "abc def"}, []string{"etag"}},

		// The standard a STANDARD_APPROVAL resolution approves: a
		// standard's name (its kind and branch are governance's to judge).
		{"approved standard: a standard's name", &governancev1.CreateResolutionRequest{Resolution: &governancev1.Resolution{
			Standard: "branches/ai/standards/annotation-quality"}}, nil},
		{"approved standard: not a standard's name", &governancev1.CreateResolutionRequest{Resolution: &governancev1.Resolution{
			Standard: "branches/ai/activities/salon"}}, []string{"resolution.standard"}},
		{"approved standard: a child of a standard", &governancev1.UpdateResolutionRequest{Resolution: &governancev1.Resolution{
			Standard: "branches/ai/standards/s/drafts/d"}}, []string{"resolution.standard"}},
		{"approved standard: too long", &governancev1.CreateResolutionRequest{Resolution: &governancev1.Resolution{
			Standard: "branches/ai/standards/" + strings.Repeat("a", 200)}}, []string{"resolution.standard"}},

		// A branch's code formats (chapterhouse.api.v1.standard_code_format):
		// empty, or both the number and the year.
		{"code formats: empty or both", &governancev1.UpdateBranchRequest{Branch: &governancev1.Branch{StandardCodeFormats: &governancev1.StandardCodeFormats{
			GroupStandard: "T/TJSIA {NNN}—{YYYY}", SelfDisciplineConvention: "{YYYY}-ZL-{NNN}"}}}, nil},
		{"code formats: a number or a year missing", &governancev1.UpdateBranchRequest{Branch: &governancev1.Branch{StandardCodeFormats: &governancev1.StandardCodeFormats{
			GroupStandard: "T/TJSIA {NNN}", LocalIndustryStandard: "DB12/T {YYYY}", SelfDisciplineConvention: "ZL {nnn}—{yyyy}", Agreement: "XY"}}},
			[]string{"branch.standard_code_formats.group_standard", "branch.standard_code_formats.local_industry_standard",
				"branch.standard_code_formats.self_discipline_convention", "branch.standard_code_formats.agreement"}},
		{"code formats: over two lines", &governancev1.UpdateBranchRequest{Branch: &governancev1.Branch{StandardCodeFormats: &governancev1.StandardCodeFormats{
			Agreement: "XY {NNN}\n{YYYY}"}}}, []string{"branch.standard_code_formats.agreement"}},
	}
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			if err := v.Validate(tt.msg); err != nil {
				verr, ok := err.(*protovalidate.ValidationError)
				if !ok {
					t.Fatalf("not a validation error: %v", err)
				}
				for _, viol := range verr.Violations {
					got = append(got, protovalidate.FieldPathString(viol.Proto.GetField()))
				}
			}
			want := slices.Clone(tt.fields)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("refused fields %v, want %v", got, want)
			}
		})
	}
}
