// Package streams is governance's published event contract: the Redis
// streams its outbox writes and the events each carries. Consumers import
// this package and read the streams from governance's own Redis
// (GOVERNANCE_REDIS_URL); they never build governance's key names. The
// governance store keys its data by the same tags, so the contract and the
// writer cannot drift apart.
package streams

import "github.com/tjsia/chapterhouse/platform/eventstream"

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
// OfficerAppointed, OfficeEnded, ResolutionVotingOpened, ResolutionPassed,
// ResolutionFailed, ResolutionWithdrawn, WorkPlanCreated and
// WorkPlanUpdated.
func Branch(branch string) string { return eventstream.StreamKey(BranchTag(branch)) }

// Producer is governance's name as an event source: consumers read its
// Redis from <PRODUCER>_REDIS_URL (GOVERNANCE_REDIS_URL).
const Producer = "governance"
