package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Source is the events' source name.
const Source = "membership"

// Service is the membership use cases.
type Service struct {
	repo     Repository
	branches map[string]bool
	now      func() time.Time
}

// NewService returns the use cases over repo for the given branches.
func NewService(repo Repository, branches []string, now func() time.Time) *Service {
	set := map[string]bool{}
	for _, b := range branches {
		set[b] = true
	}
	if now == nil {
		now = time.Now
	}
	return &Service{repo: repo, branches: set, now: now}
}

// Branches lists the branches this service keeps registers for.
func (s *Service) Branches() []string {
	out := make([]string, 0, len(s.branches))
	for b := range s.branches {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

func newEtag() string { return ids.Random()[:16] }

func (s *Service) envelope(ctx context.Context, p auth.Principal, subject string) *eventsv1.Envelope {
	return events.NewEnvelope(ctx, Source, subject, p.Subject, s.now())
}

func isStale(err error) bool { return errors.Is(err, ErrStale) }

type etagged interface{ GetEtag() string }

// mutate is one optimistic read-modify-write: load the record, let
// authorize refuse the caller (before the etag check, so a caller who may
// not act learns nothing, not even that the record changed), check the
// client's etag, then apply. It is retried when the record changed
// underneath, unless the client pinned an etag.
func mutate[T etagged](ctx context.Context, name, clientEtag string, load func() (T, error), authorize func(T) error, apply func(T) error) error {
	return retry.Write(ctx, name, clientEtag, isStale, func() error {
		cur, err := load()
		if err != nil {
			return notFound(err, name)
		}
		if authorize != nil {
			if err := authorize(cur); err != nil {
				return err
			}
		}
		if err := checkEtag(name, cur.GetEtag(), clientEtag); err != nil {
			return err
		}
		return apply(cur)
	})
}

func notFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
}

func requireAdmin(p auth.Principal, what string) error {
	if p.IsAdmin() {
		return nil
	}
	return apierr.PermissionDenied("only admins may " + what)
}

func checkEtag(name, have, want string) error {
	if want != "" && want != have {
		return apierr.EtagMismatch(name)
	}
	return nil
}

// --- organisations ---

// CreateOrganization registers an organisation. Admins only.
func (s *Service) CreateOrganization(ctx context.Context, p auth.Principal, org *membershipv1.Organization, orgID string) (*membershipv1.Organization, error) {
	if err := requireAdmin(p, "register organisations"); err != nil {
		return nil, err
	}
	org = proto.Clone(org).(*membershipv1.Organization)
	org.CreditCode = NormalizeCreditCode(org.GetCreditCode())
	if v := ValidateOrganization(org); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	now := s.now()
	if orgID == "" {
		orgID = ids.New(now)
	}
	org.Name = "organizations/" + orgID
	org.GeneralMembershipState = membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE
	org.CreateTime, org.UpdateTime = timestamppb.New(now), timestamppb.New(now)
	org.Etag = newEtag()
	ev := s.envelope(ctx, p, org.GetName())
	ev.Payload = &eventsv1.Envelope_OrganizationCreated{OrganizationCreated: &eventsv1.OrganizationCreated{Organization: org}}
	err := s.repo.CreateOrganization(ctx, org, ev)
	var conflict *ConflictError
	if errors.As(err, &conflict) && conflict.Claim == "organization_id" {
		return nil, apierr.AlreadyExists(org.GetName())
	}
	if errors.As(err, &conflict) {
		return nil, apierr.New(codes.AlreadyExists, apiv1.ErrorReason_CREDIT_CODE_TAKEN,
			fmt.Sprintf("credit code %s is already registered as %s", org.GetCreditCode(), conflict.Owner),
			map[string]string{"existing": conflict.Owner})
	}
	if err != nil {
		return nil, err
	}
	return org, nil
}

// GetOrganization reads one organisation.
func (s *Service) GetOrganization(ctx context.Context, name string) (*membershipv1.Organization, error) {
	id, err := ParseOrganizationName(name)
	if err != nil {
		return nil, err
	}
	org, err := s.repo.GetOrganization(ctx, id)
	return org, notFound(err, name)
}

// ListOrganizations pages through organisations in creation order.
func (s *Service) ListOrganizations(ctx context.Context, size int32, token string) ([]*membershipv1.Organization, string, error) {
	n, after, fp, err := pageArgs(size, token, "organizations")
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListOrganizations(ctx, after, n)
	if err != nil {
		return nil, "", err
	}
	return page.Items, nextToken(page.Next, fp), nil
}

// UpdateOrganization changes the updatable fields named in mask. Admins.
func (s *Service) UpdateOrganization(ctx context.Context, p auth.Principal, patch *membershipv1.Organization, mask *fieldmaskpb.FieldMask) (*membershipv1.Organization, error) {
	if err := requireAdmin(p, "update organisations"); err != nil {
		return nil, err
	}
	id, err := ParseOrganizationName(patch.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := maskPaths(mask, []string{"display_name", "address", "ai_business_summary"},
		map[string]string{"credit_code": "is immutable", "general_membership_state": "is changed by setGeneralMembership", "name": "is immutable"})
	if err != nil {
		return nil, err
	}
	var out *membershipv1.Organization
	load := func() (*membershipv1.Organization, error) { return s.repo.GetOrganization(ctx, id) }
	err = mutate(ctx, patch.GetName(), patch.GetEtag(), load, nil, func(cur *membershipv1.Organization) error {
		next := proto.Clone(cur).(*membershipv1.Organization)
		for _, path := range paths {
			switch path {
			case "display_name":
				next.DisplayName = patch.GetDisplayName()
			case "address":
				next.Address = patch.GetAddress()
			case "ai_business_summary":
				next.AiBusinessSummary = patch.GetAiBusinessSummary()
			}
		}
		if v := ValidateOrganization(next); len(v) > 0 {
			return apierr.InvalidArgument(v...)
		}
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_OrganizationUpdated{OrganizationUpdated: &eventsv1.OrganizationUpdated{Organization: next}}
		if err := s.repo.UpdateOrganization(ctx, next, cur.GetEtag(), ev); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// SetGeneralMembership records the organisation's standing in the general
// association. Admins and the general association's secretary-general.
func (s *Service) SetGeneralMembership(ctx context.Context, p auth.Principal, req *membershipv1.SetGeneralMembershipRequest) (*membershipv1.Organization, error) {
	if !p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary) {
		return nil, apierr.PermissionDenied("only admins and the general association's secretary-general may record general membership")
	}
	id, err := ParseOrganizationName(req.GetName())
	if err != nil {
		return nil, err
	}
	if _, ok := membershipv1.GeneralMembershipState_name[int32(req.GetState())]; !ok || req.GetState() == 0 {
		return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "state", Description: "must be NONE, PENDING, ACTIVE or LAPSED"})
	}
	var out *membershipv1.Organization
	load := func() (*membershipv1.Organization, error) { return s.repo.GetOrganization(ctx, id) }
	err = mutate(ctx, req.GetName(), req.GetEtag(), load, nil, func(cur *membershipv1.Organization) error {
		if cur.GetGeneralMembershipState() == req.GetState() {
			out = cur
			return nil
		}
		next := proto.Clone(cur).(*membershipv1.Organization)
		next.GeneralMembershipState = req.GetState()
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_GeneralMembershipChanged{GeneralMembershipChanged: &eventsv1.GeneralMembershipChanged{
			Organization: next, PreviousState: cur.GetGeneralMembershipState(), Reason: req.GetReason()}}
		if err := s.repo.UpdateOrganization(ctx, next, cur.GetEtag(), ev); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Release or hold the organisation's waiting applications now, so the
	// caller sees the effect at once. The GeneralMembershipChanged consumer
	// does the same and covers a failure here; both are idempotent.
	for _, branch := range s.Branches() {
		_, _ = s.syncWithGeneralMembership(ctx, branch, out.GetName(), auth.Principal{Subject: events.SystemActor})
	}
	return out, nil
}

// --- people ---

// VisiblePerson returns p as viewer may see it: the contact block only for
// the person themselves and admins.
func VisiblePerson(p *membershipv1.Person, viewer auth.Principal) *membershipv1.Person {
	if p == nil || viewer.IsAdmin() || viewer.Subject == p.GetName() || p.GetContact() == nil {
		return p
	}
	c := proto.Clone(p).(*membershipv1.Person)
	c.Contact = nil
	return c
}

func publicPerson(p *membershipv1.Person) *membershipv1.Person {
	c := proto.Clone(p).(*membershipv1.Person)
	c.Contact = nil
	return c
}

// CreatePerson registers a person: admins, or the caller themselves.
func (s *Service) CreatePerson(ctx context.Context, p auth.Principal, person *membershipv1.Person, personID string) (*membershipv1.Person, error) {
	if !p.IsAdmin() && p.PersonID() != personID {
		return nil, apierr.PermissionDenied("you may register only yourself (person_id must be your own id)")
	}
	now := s.now()
	person = proto.Clone(person).(*membershipv1.Person)
	if v := ValidatePerson(person, now); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if err := s.checkOrganizationExists(ctx, person.GetOrganization(), "person.organization"); err != nil {
		return nil, err
	}
	person.Name = "people/" + personID
	person.CreateTime, person.UpdateTime = timestamppb.New(now), timestamppb.New(now)
	person.Etag = newEtag()
	ev := s.envelope(ctx, p, person.GetName())
	ev.Payload = &eventsv1.Envelope_PersonCreated{PersonCreated: &eventsv1.PersonCreated{Person: publicPerson(person)}}
	err := s.repo.CreatePerson(ctx, person, ev)
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		return nil, apierr.AlreadyExists(person.GetName())
	}
	if err != nil {
		return nil, err
	}
	return VisiblePerson(person, p), nil
}

func (s *Service) checkOrganizationExists(ctx context.Context, name, field string) error {
	if name == "" {
		return nil
	}
	id, err := ParseOrganizationName(name)
	if err != nil {
		return apierr.InvalidArgument(apierr.FieldViolation{Field: field, Description: "must be organizations/{id}"})
	}
	if _, err := s.repo.GetOrganization(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return apierr.ReferenceNotFound(field, name)
		}
		return err
	}
	return nil
}

// GetPerson reads a person, contacts redacted for other viewers.
func (s *Service) GetPerson(ctx context.Context, p auth.Principal, name string) (*membershipv1.Person, error) {
	id, err := ParsePersonName(name)
	if err != nil {
		return nil, err
	}
	person, err := s.repo.GetPerson(ctx, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	return VisiblePerson(person, p), nil
}

// ListPeople pages through people, optionally of one organisation.
func (s *Service) ListPeople(ctx context.Context, p auth.Principal, organization string, size int32, token string) ([]*membershipv1.Person, string, error) {
	if organization != "" {
		if _, err := ParseOrganizationName(organization); err != nil {
			return nil, "", apierr.InvalidArgument(apierr.FieldViolation{Field: "organization", Description: "must be organizations/{id}"})
		}
	}
	n, after, fp, err := pageArgs(size, token, "people", organization)
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListPeople(ctx, organization, after, n)
	if err != nil {
		return nil, "", err
	}
	out := make([]*membershipv1.Person, len(page.Items))
	for i, person := range page.Items {
		out[i] = VisiblePerson(person, p)
	}
	return out, nextToken(page.Next, fp), nil
}

var personPaths = []string{"display_name", "birth_date", "organization", "rank", "title", "expertise", "academic_credentials", "contact", "contact.email", "contact.phone"}

// UpdatePerson changes the fields named in mask: admins or the person.
func (s *Service) UpdatePerson(ctx context.Context, p auth.Principal, patch *membershipv1.Person, mask *fieldmaskpb.FieldMask) (*membershipv1.Person, error) {
	id, err := ParsePersonName(patch.GetName())
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() && p.PersonID() != id {
		return nil, apierr.PermissionDenied("you may update only your own record")
	}
	paths, err := maskPaths(mask, personPaths, map[string]string{"name": "is immutable", "create_time": "is output only", "update_time": "is output only"})
	if err != nil {
		return nil, err
	}
	if slices.Contains(paths, "organization") {
		if err := s.checkOrganizationExists(ctx, patch.GetOrganization(), "person.organization"); err != nil {
			return nil, err
		}
	}
	var out *membershipv1.Person
	load := func() (*membershipv1.Person, error) { return s.repo.GetPerson(ctx, id) }
	err = mutate(ctx, patch.GetName(), patch.GetEtag(), load, nil, func(cur *membershipv1.Person) error {
		next := proto.Clone(cur).(*membershipv1.Person)
		for _, path := range paths {
			switch path {
			case "display_name":
				next.DisplayName = patch.GetDisplayName()
			case "birth_date":
				next.BirthDate = patch.GetBirthDate()
			case "organization":
				next.Organization = patch.GetOrganization()
			case "rank":
				next.Rank = patch.GetRank()
			case "title":
				next.Title = patch.GetTitle()
			case "expertise":
				next.Expertise = patch.GetExpertise()
			case "academic_credentials":
				next.AcademicCredentials = patch.GetAcademicCredentials()
			case "contact":
				next.Contact = patch.GetContact()
			case "contact.email", "contact.phone":
				if next.Contact == nil {
					next.Contact = &membershipv1.ContactInfo{}
				}
				if path == "contact.email" {
					next.Contact.Email = patch.GetContact().GetEmail()
				} else {
					next.Contact.Phone = patch.GetContact().GetPhone()
				}
			}
		}
		if v := ValidatePerson(next, s.now()); len(v) > 0 {
			return apierr.InvalidArgument(v...)
		}
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_PersonUpdated{PersonUpdated: &eventsv1.PersonUpdated{Person: publicPerson(next)}}
		if err := s.repo.UpdatePerson(ctx, next, cur.GetEtag(), cur.GetOrganization(), ev); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return VisiblePerson(out, p), nil
}

// --- paging and masks ---

func pageArgs(size int32, token string, filters ...string) (int, string, string, error) {
	n, err := pagetoken.Size(size)
	if err != nil {
		return 0, "", "", apierr.InvalidArgument(apierr.FieldViolation{Field: "page_size", Description: err.Error()})
	}
	fp := pagetoken.Fingerprint(filters...)
	after, err := pagetoken.Decode(token, fp)
	if err != nil {
		return 0, "", "", apierr.InvalidPageToken()
	}
	return n, after, fp, nil
}

func nextToken(next, fp string) string {
	if next == "" {
		return ""
	}
	return pagetoken.Encode(next, fp)
}

// maskPaths validates mask against the updatable paths; "*" means all of
// them. An empty mask is an error: AIP-134 allows it to mean "every
// provided field", but with proto3 scalars a client could then not clear a
// field, and clearing by accident is worse than a clear error.
func maskPaths(mask *fieldmaskpb.FieldMask, updatable []string, forbidden map[string]string) ([]string, error) {
	if len(mask.GetPaths()) == 0 {
		return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "update_mask", Description: "is required; name the fields to change, or \"*\""})
	}
	var bad []apierr.FieldViolation
	var out []string
	for _, path := range mask.GetPaths() {
		switch {
		case path == "*":
			out = append(out, updatable...)
		case slices.Contains(updatable, path):
			out = append(out, path)
		case forbidden[path] != "":
			bad = append(bad, apierr.FieldViolation{Field: "update_mask", Description: path + " " + forbidden[path]})
		default:
			bad = append(bad, apierr.FieldViolation{Field: "update_mask", Description: "unknown or non-updatable field " + path})
		}
	}
	if len(bad) > 0 {
		return nil, apierr.InvalidArgument(bad...)
	}
	return out, nil
}

// --- names ---

func parseName(name string, collections ...string) ([]string, error) {
	return resourcename.Parse(name, collections...)
}

// ParseOrganizationName returns the id of organizations/{id}.
func ParseOrganizationName(name string) (string, error) {
	ids, err := parseName(name, "organizations")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ParsePersonName returns the id of people/{id}.
func ParsePersonName(name string) (string, error) {
	ids, err := parseName(name, "people")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

func (s *Service) parseBranch(parent string) (string, error) {
	ids, err := parseName(parent, "branches")
	if err != nil {
		return "", err
	}
	if !s.branches[ids[0]] {
		return "", apierr.New(codes.NotFound, apiv1.ErrorReason_UNKNOWN_BRANCH, parent+" not found", map[string]string{"resource": parent})
	}
	return ids[0], nil
}

func (s *Service) parseInBranch(name, collection string) (branch, id string, err error) {
	ids, err := parseName(name, "branches", collection)
	if err != nil {
		return "", "", err
	}
	if !s.branches[ids[0]] {
		return "", "", apierr.NotFound(name)
	}
	return ids[0], ids[1], nil
}
