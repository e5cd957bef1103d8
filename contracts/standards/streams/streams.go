// Package streams is standards' published event contract: the Redis
// streams its outbox writes and the events each carries. Consumers import
// this package and read the streams from standards' own Redis
// (STANDARDS_REDIS_URL); they never build standards' key names. The
// standards store keys its data by the same tags, so the contract and the
// writer cannot drift apart.
package streams

import "github.com/tjsia/chapterhouse/platform/eventstream"

// BranchTag is the hash tag of one branch's standards, drafts, comments,
// signatories, promotions and code sequences: a publication's code claim
// and the standard it numbers, or a comment and the period it falls in,
// touch one slot.
func BranchTag(branch string) string { return "std:br:" + branch }

// Branch carries a branch's StandardProposed, StandardUpdated,
// StandardStateChanged, StandardReviewed, StandardPublished, DraftAdded,
// CommentSubmitted, CommentDisposed, PromotionScheduled, SignatorySigned
// and SignatoryWithdrawn.
func Branch(branch string) string { return eventstream.StreamKey(BranchTag(branch)) }

// Producer is standards' name as an event source: consumers read its
// Redis from <PRODUCER>_REDIS_URL (STANDARDS_REDIS_URL).
const Producer = "standards"
