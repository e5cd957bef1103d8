// Package streams is governance's published event contract: the Redis
// streams its outbox writes and the events each carries. Consumers import
// this package and read the streams from governance's own Redis
// (GOVERNANCE_REDIS_URL); they never build governance's key names. The
// governance store keys its data by the same tags, so the contract and the
// writer cannot drift apart.
package streams

import (
	"context"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// BranchesTag is the hash tag of the branch register. Branch events live
// there, not on a branch's own stream, so a consumer that has never heard
// of a branch still learns that it was created.
const BranchesTag = "gov:branches"

// BranchTag is the hash tag of one branch's terms, nominations, officers,
// meetings, resolutions and work plans: every charter check and the write
// it guards touch one slot.
func BranchTag(branch string) string { return "gov:br:" + branch }

// Branches carries BranchCreated and BranchUpdated.
func Branches() string { return eventstream.StreamKey(BranchesTag) }

// Branch carries a branch's TermCreated, TermUpdated, NominationProposed,
// NominationQualified, NominationRejected, NominationWithdrawn,
// OfficerAppointed, OfficeEnded, ResolutionVotingOpened,
// ResolutionBallotsRecorded, ResolutionPassed, ResolutionFailed,
// ResolutionWithdrawn, WorkPlanCreated and WorkPlanUpdated.
func Branch(branch string) string { return eventstream.StreamKey(BranchTag(branch)) }

// Producer is governance's name as an event source: consumers read its
// Redis from <PRODUCER>_REDIS_URL (GOVERNANCE_REDIS_URL).
const Producer = "governance"

// AnnounceBranch writes b's BranchCreated on the branches stream of the
// Redis at client, as governance does when it creates a branch: it lets
// tests and tools stand in for governance without knowing its keys.
func AnnounceBranch(ctx context.Context, client redis.Scripter, b *governancev1.Branch) error {
	env := &eventsv1.Envelope{Id: ids.Random(), Source: Producer, Subject: b.GetName(), OccurTime: timestamppb.Now(),
		Payload: &eventsv1.Envelope_BranchCreated{BranchCreated: &eventsv1.BranchCreated{Branch: b}}}
	tx := redistx.New(BranchesTag, env.GetId())
	if err := eventstream.Append(tx, BranchesTag, env); err != nil {
		return err
	}
	return tx.Commit(ctx, client)
}
