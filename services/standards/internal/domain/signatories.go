package domain

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// Signable: conventions and agreements are signed by the member units
// they bind.
func Signable(k standardsv1.StandardKind) bool {
	return k == standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION || k == standardsv1.StandardKind_STANDARD_KIND_AGREEMENT
}

// notSignable refuses a signature of st; the text
// "error.standards.<why>" says why, from st's name, kind and state.
func notSignable(st *standardsv1.Standard, why string) error {
	md := map[string]string{"resource": st.GetName(), "state": st.GetState().String(), "kind": st.GetKind().String()}
	return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_NOT_SIGNABLE, md, text("error.standards."+why, md))
}

// memberNotActive refuses a signature of standard for member; the text
// "error.standards.<why>" says why, from the member's state when known.
func memberNotActive(member, standard, why, state string) error {
	md := map[string]string{"member": member, "resource": standard}
	if state != "" {
		md["state"] = state
	}
	return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_MEMBER_NOT_ACTIVE, md, text("error.standards."+why, md))
}

// CreateSignatory signs a convention or agreement in force for an ACTIVE
// unit member: its representative, or admins. A repeat returns the SIGNED
// signatory; a withdrawn or lapsed one is signed again.
func (s *Service) CreateSignatory(ctx context.Context, p auth.Principal, parent string, in *standardsv1.Signatory) (*standardsv1.Signatory, error) {
	r, err := s.parseUnder(ctx, parent, "")
	if err != nil {
		return nil, err
	}
	if in.GetMember() == "" {
		return nil, apierr.InvalidArgument(apierr.Field("signatory.member", "required"))
	}
	parts, err := resourcename.Parse(in.GetMember(), "branches", "members")
	if err != nil || parts[0] != r.branch {
		return nil, apierr.InvalidArgument(notBranchMember("signatory.member", in.GetMember(), r.branch))
	}
	member := parts[1]
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() {
		ok, err := s.represents(ctx, p, r.branch, in.GetMember())
		if err := deny(p, ok, err, denial{"sign", []string{"member", in.GetMember(), "standard", st.GetName()}}); err != nil {
			return nil, err
		}
	}
	if !Signable(st.GetKind()) {
		return nil, notSignable(st, "kind_not_signable")
	}
	if !IsInForce(st.GetState()) {
		return nil, notSignable(st, "not_in_force")
	}
	m, err := s.members.Member(ctx, in.GetMember())
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, memberNotActive(in.GetMember(), st.GetName(), "signer_not_a_member", "")
	case err != nil:
		return nil, err
	case m.GetKind() != membershipv1.ApplicationKind_APPLICATION_KIND_UNIT:
		return nil, memberNotActive(in.GetMember(), st.GetName(), "signer_is_individual", "")
	case m.GetState() != membershipv1.MemberState_MEMBER_STATE_ACTIVE:
		return nil, memberNotActive(in.GetMember(), st.GetName(), "signer_not_active", m.GetState().String())
	}
	name := parent + "/signatories/" + member
	sig, err := retry.Write(ctx, name, "", IsStale, func() (*standardsv1.Signatory, error) {
		cur, err := s.repo.GetSignatory(ctx, r.branch, r.standard, member)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if cur.GetState() == standardsv1.SignatoryState_SIGNATORY_STATE_SIGNED {
			return cur, nil
		}
		next := &standardsv1.Signatory{Name: name, Member: in.GetMember(), Signer: p.Subject,
			State: standardsv1.SignatoryState_SIGNATORY_STATE_SIGNED, SignTime: s.stamp(), Etag: newEtag()}
		ev := s.envelope(ctx, p, name)
		ev.Payload = &eventsv1.Envelope_SignatorySigned{SignatorySigned: &eventsv1.SignatorySigned{Signatory: next}}
		if err := s.repo.SaveSignatory(ctx, r.branch, next, cur.GetEtag(), true, ev); err != nil {
			return nil, err
		}
		return next, nil
	})
	switch {
	case errors.Is(err, ErrClosed):
		return nil, notSignable(st, "no_longer_in_force")
	case errors.Is(err, ErrMemberEnded):
		return nil, memberNotActive(in.GetMember(), st.GetName(), "signer_membership_ended", "")
	}
	return sig, err
}

// GetSignatory is public for a public standard.
func (s *Service) GetSignatory(ctx context.Context, p auth.Principal, name string) (*standardsv1.Signatory, error) {
	return getUnder(ctx, s, p, name, "signatories", nil, s.repo.GetSignatory)
}

// ListSignatories is public for a public standard (only those in force
// are signed); ordered by member.
func (s *Service) ListSignatories(ctx context.Context, p auth.Principal, req *standardsv1.ListSignatoriesRequest) ([]*standardsv1.Signatory, string, error) {
	keep := func(sig *standardsv1.Signatory) bool { return req.GetState() == 0 || sig.GetState() == req.GetState() }
	return listUnder(ctx, s, p, req, nil,
		func(ctx context.Context, branch, standard, after string, size int) (page.Page[*standardsv1.Signatory], error) {
			return s.repo.ListSignatories(ctx, branch, standard, after, size, keep)
		}, "signatories", req.GetState().String())
}

// WithdrawSignatory: SIGNED → WITHDRAWN, with a reason. The member's
// representative, or admins.
func (s *Service) WithdrawSignatory(ctx context.Context, p auth.Principal, req *standardsv1.WithdrawSignatoryRequest) (*standardsv1.Signatory, error) {
	r, err := s.parseUnder(ctx, req.GetName(), "signatories")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "required"))
	}
	return retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*standardsv1.Signatory, error) {
		if _, err := s.standard(ctx, p, r); err != nil {
			return nil, err
		}
		cur, err := s.repo.GetSignatory(ctx, r.branch, r.standard, r.child)
		if err != nil {
			return nil, notFound(err, req.GetName())
		}
		if !p.IsAdmin() {
			ok, err := s.represents(ctx, p, r.branch, cur.GetMember())
			if err := deny(p, ok, err, denial{"withdraw_signature", []string{"member", cur.GetMember(), "signatory", cur.GetName()}}); err != nil {
				return nil, err
			}
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if cur.GetState() != standardsv1.SignatoryState_SIGNATORY_STATE_SIGNED {
			return nil, apierr.InvalidTransition(cur.GetName(), ActWithdraw, cur.GetState().String(), ActSign)
		}
		return s.unsign(ctx, p, r.branch, cur, standardsv1.SignatoryState_SIGNATORY_STATE_WITHDRAWN, req.GetReason(), req.GetReason())
	})
}

// unsign ends a signature: WITHDRAWN by the member, LAPSED when its
// membership ended. Its record keeps reason, a person's words, as they
// are; the event says why (for the services that follow it).
func (s *Service) unsign(ctx context.Context, p auth.Principal, branch string, cur *standardsv1.Signatory, state standardsv1.SignatoryState, reason, why string) (*standardsv1.Signatory, error) {
	next := clone(cur)
	next.State, next.WithdrawReason, next.WithdrawTime, next.Etag = state, reason, s.stamp(), newEtag()
	ev := s.envelope(ctx, p, next.GetName())
	ev.Payload = &eventsv1.Envelope_SignatoryWithdrawn{SignatoryWithdrawn: &eventsv1.SignatoryWithdrawn{Signatory: next, Reason: why}}
	if err := s.repo.SaveSignatory(ctx, branch, next, cur.GetEtag(), false, ev); err != nil {
		return nil, err
	}
	return next, nil
}
