// Package streams is the activities service's published event contract:
// the Redis streams its outbox writes, one per hash-tagged slot, and the
// events each carries. Consumers import this package and read the streams
// from the activities service's own Redis; they never build its key names.
// The activities store keys its data by the same tags.
package streams

import "github.com/tjsia/chapterhouse/platform/eventstream"

// CertificatesTag is the hash tag of certificates.
const CertificatesTag = "act:certs"

// BranchTag is the hash tag of a branch's activities and registrations.
func BranchTag(branch string) string { return "act:br:" + branch }

// Branch carries a branch's ActivityPublished, ActivityUpdated,
// ActivityCancelled, ActivityCompleted, RegistrationConfirmed,
// RegistrationWaitlisted, RegistrationPromoted, RegistrationCancelled and
// RegistrationCheckedIn.
func Branch(branch string) string { return eventstream.StreamKey(BranchTag(branch)) }

// Certificates carries CertificateIssued and CertificateRevoked.
func Certificates() string { return eventstream.StreamKey(CertificatesTag) }

// Producer is the activities service's name as an event source
// (ACTIVITIES_REDIS_URL for its consumers).
const Producer = "activities"
