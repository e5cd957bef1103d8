// Package streams is membership's published event contract: the Redis
// streams its outbox writes, one per hash-tagged slot, and the events each
// carries. Consumers import this package and read the streams from
// membership's own Redis (each consumer is configured with it, see
// MEMBERSHIP_REDIS_URL); they never build membership's key names. The
// membership store keys its data by the same tags, so the contract and the
// writer cannot drift apart.
package streams

import "github.com/tjsia/chapterhouse/platform/eventstream"

// Hash tags of membership's slots.
const (
	OrganizationsTag = "mbr:orgs"
	PeopleTag        = "mbr:people"
)

// BranchTag is the hash tag of a branch's applications and members.
func BranchTag(branch string) string { return "mbr:br:" + branch }

// Organizations carries OrganizationCreated, OrganizationUpdated and
// GeneralMembershipChanged.
func Organizations() string { return eventstream.StreamKey(OrganizationsTag) }

// People carries PersonCreated and PersonUpdated.
func People() string { return eventstream.StreamKey(PeopleTag) }

// Branch carries a branch's ApplicationSubmitted, ApplicationReleased,
// ApplicationHeld, ApplicationApproved, ApplicationRejected,
// ApplicationWithdrawn, MemberAdmitted, MemberSuspended, MemberReinstated,
// MemberTerminated and RepresentativeChanged.
func Branch(branch string) string { return eventstream.StreamKey(BranchTag(branch)) }

// Producer is membership's name as an event source: consumers read its
// Redis from <PRODUCER>_REDIS_URL (MEMBERSHIP_REDIS_URL).
const Producer = "membership"
