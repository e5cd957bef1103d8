package domain

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

func codeOf(err error) codes.Code { return status.Code(err) }

// IssueCertificate issues a certificate for an ATTENDED registration of a
// COMPLETED training, certification or evaluation (A2). Organisers. A
// repeat returns the existing certificate.
func (s *Service) IssueCertificate(ctx context.Context, p auth.Principal, req *activitiesv1.IssueCertificateRequest) (*activitiesv1.Certificate, error) {
	branch, actID, person, err := s.registrationName(ctx, req.GetRegistration())
	if err != nil {
		return nil, apierr.InvalidArgument(apierr.Field("registration", "name_form", "name", req.GetRegistration(),
			"pattern", "branches/{branch}/activities/{activity}/registrations/{registration}"))
	}
	a, organiser, err := s.seenActivity(ctx, p, branch, actID, req.GetRegistration())
	if err != nil {
		return nil, err
	}
	if err := requireOrganiser(a, organiser, req.GetRegistration(), "issue"); err != nil {
		return nil, err
	}
	reg, err := s.repo.GetRegistration(ctx, branch, actID, person)
	if err != nil {
		return nil, notFound(err, req.GetRegistration())
	}
	if problems := CheckCertifiable(a, reg); len(problems) > 0 {
		return nil, apierr.Charter(problems)
	}
	holder, err := s.members.DisplayName(ctx, reg.GetPerson())
	if err != nil {
		return nil, err
	}
	title := req.GetTitle()
	if title == "" {
		title = a.GetTitle()
	}
	// A verification code that collides with another is drawn again.
	out, err := retry.Conflicts(ctx, IsStale, func() (*activitiesv1.Certificate, error) {
		now := s.now()
		c := &activitiesv1.Certificate{
			Name: "certificates/" + ids.New(now), Activity: a.GetName(), Registration: reg.GetName(), Person: reg.GetPerson(),
			Title: title, HolderDisplayName: holder, ActivityTitle: a.GetTitle(), ActivityKind: a.GetKind(),
			VerificationCode: FormatVerificationCode(randomCode()), State: activitiesv1.CertificateState_CERTIFICATE_STATE_VALID,
			Issuer: p.Subject, IssueTime: timestamppb.New(now), Etag: newEtag(),
		}
		ev := s.envelope(ctx, p, c.GetName())
		ev.Payload = &eventsv1.Envelope_CertificateIssued{CertificateIssued: &eventsv1.CertificateIssued{Certificate: c}}
		stored, err := s.repo.CreateCertificate(ctx, c, ev)
		if errors.Is(err, ErrExists) {
			return stored, nil // one per registration: the existing certificate
		}
		return stored, err
	})
	if errors.Is(err, retry.ErrExhausted) {
		return nil, apierr.New(codes.Aborted, apiv1.ErrorReason_CODE_COLLISION, nil)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) mayRead(ctx context.Context, p auth.Principal, c *activitiesv1.Certificate) bool {
	if p.IsAdmin() || p.Subject == c.GetPerson() {
		return true
	}
	ids, err := parseName(c.GetActivity(), "branches", "activities")
	if err != nil {
		return false
	}
	a, err := s.repo.GetActivity(ctx, ids[0], ids[1])
	if err != nil {
		return false
	}
	organises, err := s.organisers(ctx, p, ids[0])
	return err == nil && organises(a)
}

// GetCertificate: admins, the activity's organisers, the holder.
func (s *Service) GetCertificate(ctx context.Context, p auth.Principal, name string) (*activitiesv1.Certificate, error) {
	ids, err := parseName(name, "certificates")
	if err != nil {
		return nil, err
	}
	c, err := s.repo.GetCertificate(ctx, ids[0])
	if err != nil {
		return nil, notFound(err, name)
	}
	if !s.mayRead(ctx, p, c) {
		return nil, apierr.NotFound(name)
	}
	return c, nil
}

// ListCertificates: admins see all; others only their own.
func (s *Service) ListCertificates(ctx context.Context, p auth.Principal, req *activitiesv1.ListCertificatesRequest) ([]*activitiesv1.Certificate, string, error) {
	person := req.GetPerson()
	if !p.IsAdmin() {
		if person != "" && person != p.Subject {
			return nil, "", apierr.PermissionDenied("activities.list_certificates")
		}
		person = p.Subject
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "certificates", person, req.GetActivity(), req.GetState().String())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListCertificates(ctx, pg.After, pg.Size, func(c *activitiesv1.Certificate) bool {
		return (person == "" || c.GetPerson() == person) && (req.GetActivity() == "" || c.GetActivity() == req.GetActivity()) &&
			(req.GetState() == 0 || c.GetState() == req.GetState())
	})
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

// VerifyCertificate is public: it returns only what a verifier needs.
func (s *Service) VerifyCertificate(ctx context.Context, req *activitiesv1.VerifyCertificateRequest) (*activitiesv1.VerifyCertificateResponse, error) {
	code := NormalizeVerificationCode(req.GetVerificationCode())
	if len(code) != codeLength || strings.Trim(code, VerificationAlphabet) != "" {
		return nil, apierr.InvalidArgument(apierr.Field("verification_code", "activities.verification_code", "length", strconv.Itoa(codeLength), "example", "K7Q3-M9XD-4HRT"))
	}
	c, err := s.repo.CertificateByCode(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return nil, refuse(codes.NotFound, apiv1.ErrorReason_NOT_FOUND, "no_such_verification_code", "verificationCode", FormatVerificationCode(code))
	}
	if err != nil {
		return nil, err
	}
	resp := &activitiesv1.VerifyCertificateResponse{
		Valid: c.GetState() == activitiesv1.CertificateState_CERTIFICATE_STATE_VALID, State: c.GetState(),
		Title: c.GetTitle(), HolderDisplayName: c.GetHolderDisplayName(), ActivityTitle: c.GetActivityTitle(),
		ActivityKind: c.GetActivityKind(), IssueTime: c.GetIssueTime(), RevokeTime: c.GetRevokeTime(),
	}
	if ids, err := parseName(c.GetActivity(), "branches", "activities"); err == nil {
		resp.Branch = "branches/" + ids[0]
		if a, err := s.repo.GetActivity(ctx, ids[0], ids[1]); err == nil {
			resp.ActivityStartTime = a.GetStartTime()
		}
	}
	return resp, nil
}

// RevokeCertificate: VALID → REVOKED with a reason. Admins and organisers.
func (s *Service) RevokeCertificate(ctx context.Context, p auth.Principal, req *activitiesv1.RevokeCertificateRequest) (*activitiesv1.Certificate, error) {
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "required"))
	}
	ids, err := parseName(req.GetName(), "certificates")
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*activitiesv1.Certificate, error) {
		cur, err := s.repo.GetCertificate(ctx, ids[0])
		if err != nil {
			return nil, notFound(err, req.GetName())
		}
		if !s.mayRead(ctx, p, cur) {
			return nil, apierr.NotFound(req.GetName())
		}
		if !p.IsAdmin() && p.Subject == cur.GetPerson() && !s.organises(ctx, p, cur) {
			return nil, apierr.PermissionDenied("activities.revoke", "activity", cur.GetActivity())
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(req.GetName())
		}
		if cur.GetState() != activitiesv1.CertificateState_CERTIFICATE_STATE_VALID {
			return nil, CertificateTransition(cur, "revoke")
		}
		now := s.now()
		next := proto.Clone(cur).(*activitiesv1.Certificate)
		next.State, next.RevokeReason, next.RevokeTime, next.Etag = activitiesv1.CertificateState_CERTIFICATE_STATE_REVOKED, req.GetReason(), timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_CertificateRevoked{CertificateRevoked: &eventsv1.CertificateRevoked{Certificate: next, Reason: req.GetReason()}}
		err = s.repo.SaveCertificate(ctx, next, cur.GetEtag(), ev)
		if err != nil {
			return nil, err
		}
		return next, nil
	})
}

func (s *Service) organises(ctx context.Context, p auth.Principal, c *activitiesv1.Certificate) bool {
	ids, err := parseName(c.GetActivity(), "branches", "activities")
	if err != nil {
		return false
	}
	a, err := s.repo.GetActivity(ctx, ids[0], ids[1])
	if err != nil {
		return false
	}
	organises, err := s.organisers(ctx, p, ids[0])
	return err == nil && organises(a)
}

// randomCode draws a verification code of codeLength characters.
func randomCode() string {
	b := make([]byte, codeLength)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(VerificationAlphabet))))
		b[i] = VerificationAlphabet[n.Int64()]
	}
	return string(b)
}
