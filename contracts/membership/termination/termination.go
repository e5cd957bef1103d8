// Package termination reads membership's MemberTerminated for the services
// that follow it (governance, activities, standards each undo what the
// member held): one reading of the event, with no I/O, so a domain may use
// it.
package termination

import (
	"github.com/tjsia/chapterhouse/platform/resourcename"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// Termination is what a MemberTerminated says.
type Termination struct {
	// Branch is the branch's id.
	Branch string
	// Member is the member's resource name, branches/{branch}/members/{id};
	// MemberID its last segment.
	Member, MemberID string
	// Reason is the words given for ending the membership, as given.
	Reason string
}

// Of returns the termination env carries. ok is false for any other event,
// and for a MemberTerminated whose member is not a member's name: there is
// nothing a follower could undo for it, so it is acknowledged and skipped.
func Of(env *eventsv1.Envelope) (t Termination, ok bool) {
	terminated := env.GetMemberTerminated()
	if terminated == nil {
		return Termination{}, false
	}
	member := terminated.GetMember().GetName()
	ids, err := resourcename.Parse(member, "branches", "members")
	if err != nil {
		return Termination{}, false
	}
	return Termination{Branch: ids[0], Member: member, MemberID: ids[1], Reason: terminated.GetReason()}, true
}
