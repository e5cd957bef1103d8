package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// PromotionActivityID is the id of the activity a promotion creates: a
// stable hash of the standard and the promotion id, so a retry (after a
// crash, or a lost answer) asks activities for the same activity, which
// it then returns instead of creating a second.
func PromotionActivityID(standard, promotion string) string {
	sum := sha256.Sum256([]byte(standard + "\x00" + promotion))
	return "promo-" + hex.EncodeToString(sum[:])[:20]
}

// SchedulePromotion creates a STANDARD_PROMOTION activity for a standard
// in force (S2) through activities, then records it. Editors (who must
// also be allowed to create activities: the caller's token goes along).
// Idempotent on the promotion id; when activities cannot be reached the
// call is UNAVAILABLE and nothing is recorded.
func (s *Service) SchedulePromotion(ctx context.Context, p auth.Principal, req *standardsv1.SchedulePromotionRequest) (*standardsv1.Promotion, error) {
	r, err := s.parseUnder(ctx, req.GetParent(), "")
	if err != nil {
		return nil, err
	}
	id := req.GetPromotionId()
	var v []apierr.FieldViolation
	if id == "" {
		v = append(v, apierr.Field("promotion_id", "required"))
	}
	if req.GetActivity() == nil {
		v = append(v, apierr.Field("activity", "required"))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if err := s.mustEdit(ctx, p, r.branch, st, ActSchedulePromotion); err != nil {
		return nil, err
	}
	if existing, err := s.repo.GetPromotion(ctx, r.branch, r.standard, id); err == nil {
		// A repeat, perhaps by another editor, who need not organise the
		// activity.
		return s.shownPromotion(ctx, p, existing)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if _, err := transition(st, ActSchedulePromotion); err != nil {
		return nil, err
	}
	a := clone(req.GetActivity())
	a.Name = ""
	a.Kind = activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION
	a.RelatedStandard = st.GetName()
	if a.GetTitle() == "" {
		a.Title = "宣贯：" + st.GetTitle()
	}
	created, err := s.activities.CreateActivity(ctx, "branches/"+r.branch, a, PromotionActivityID(st.GetName(), id))
	if err != nil {
		return nil, err
	}
	promo := &standardsv1.Promotion{Name: req.GetParent() + "/promotions/" + id, Activity: created.GetName(), Scheduler: p.Subject,
		CreateTime: s.stamp(), Etag: newEtag()}
	ev := s.envelope(ctx, p, st.GetName())
	ev.Payload = &eventsv1.Envelope_PromotionScheduled{PromotionScheduled: &eventsv1.PromotionScheduled{Standard: st, Activity: created.GetName(), Promotion: promo}}
	err = s.repo.CreatePromotion(ctx, r.branch, promo, ev)
	switch {
	case errors.Is(err, ErrExists):
		// A concurrent retry recorded it first, with the same activity.
		existing, err := s.repo.GetPromotion(ctx, r.branch, r.standard, id)
		if err != nil {
			return nil, err
		}
		return s.shownPromotion(ctx, p, existing)
	case err != nil:
		return nil, err
	}
	// The caller just had activities create (or find) the activity, so
	// they organise it and read it: no need to ask.
	return promo, nil
}

// shownPromotion is promo as p is shown it: its activity is left out
// (the field empty) when p may not read it, a DRAFT or CANCELLED
// activity p does not organise, which activities answers as missing.
// Asked of activities with p's token, so its own rule decides; when it
// cannot be reached the answer is UNAVAILABLE, not a name unchecked.
//
// Masked, not left out: the promotion is the standard's own record, seen
// by whoever sees the standard, and says that a promotion was scheduled
// and by whom; only the name of what p may not see goes, so a hidden
// activity answers p here exactly as a missing one does.
func (s *Service) shownPromotion(ctx context.Context, p auth.Principal, promo *standardsv1.Promotion) (*standardsv1.Promotion, error) {
	if promo.GetActivity() == "" {
		return promo, nil
	}
	_, err := s.activities.Activity(ctx, p, promo.GetActivity())
	switch {
	case errors.Is(err, ErrNotFound):
		out := clone(promo)
		out.Activity = ""
		return out, nil
	case err != nil:
		return nil, err
	}
	return promo, nil
}

// ListPromotions lists a standard's promotions, oldest first; public for a
// public standard. Each names its activity only to a caller who may read
// it (shownPromotion).
func (s *Service) ListPromotions(ctx context.Context, p auth.Principal, req *standardsv1.ListPromotionsRequest) ([]*standardsv1.Promotion, string, error) {
	promos, next, err := listUnder(ctx, s, p, req, nil, s.repo.ListPromotions, "promotions")
	if err != nil {
		return nil, "", err
	}
	for i, promo := range promos {
		if promos[i], err = s.shownPromotion(ctx, p, promo); err != nil {
			return nil, "", err
		}
	}
	return promos, next, nil
}
