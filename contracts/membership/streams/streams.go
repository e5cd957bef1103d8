// Package streams is membership's published event contract: the Redis
// streams its outbox writes, one per hash-tagged slot, and the events each
// carries. Consumers import this package and read the streams from
// membership's own Redis (each consumer is configured with it, see
// MEMBERSHIP_REDIS_URL); they never build membership's key names. The
// membership store keys its data by the same tags, so the contract and the
// writer cannot drift apart.
package streams

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/follow"

	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
)

// Hash tags of membership's slots.
const (
	OrganizationsTag = "mbr:orgs"
	PeopleTag        = "mbr:people"
	// AccessTag: invitations, accounts and role bindings.
	AccessTag = "mbr:access"
)

// BranchTag is the hash tag of a branch's applications and members.
func BranchTag(branch string) string { return "mbr:br:" + branch }

// Organizations carries OrganizationCreated, OrganizationUpdated and
// GeneralMembershipChanged.
func Organizations() string { return eventstream.StreamKey(OrganizationsTag) }

// People carries PersonCreated and PersonUpdated.
func People() string { return eventstream.StreamKey(PeopleTag) }

// Access carries InvitationCreated, InvitationRevoked, AccountLinked,
// AccountUnlinked, RoleGranted and RoleRevoked.
func Access() string { return eventstream.StreamKey(AccessTag) }

// Branch carries a branch's ApplicationSubmitted, ApplicationReleased,
// ApplicationHeld, ApplicationApproved, ApplicationRejected,
// ApplicationWithdrawn, MemberAdmitted, MemberSuspended, MemberReinstated,
// MemberTerminated and RepresentativeChanged.
func Branch(branch string) string { return eventstream.StreamKey(BranchTag(branch)) }

// Producer is membership's name as an event source: consumers read its
// Redis from <PRODUCER>_REDIS_URL (MEMBERSHIP_REDIS_URL).
const Producer = "membership"

// BranchesTag is the hash tag of membership's register of the branches it
// keeps (its directory of governance's branches, in membership's Redis).
// A branch's stream exists only once membership holds the branch, so the
// register is also the list of the branch streams there are to follow.
const BranchesTag = "mbr:branches"

// FollowOrganizations declares a consumer of the organisations stream.
func FollowOrganizations(handler events.Handler) follow.Stream {
	return follow.One(Producer, Organizations(), handler)
}

// FollowBranches declares a consumer of every branch's stream, the
// branches read from membership's own register of them: a consumer learns
// which membership streams exist from membership, not from governance.
func FollowBranches(handler events.Handler) follow.Stream {
	return follow.PerKey(Producer, registered, Branch, handler)
}

func registered(ctx context.Context, source redis.UniversalClient) ([]string, error) {
	return directory.New(source, BranchesTag, nil).IDs(ctx)
}
