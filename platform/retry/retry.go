// Package retry reruns an optimistic read-modify-write that lost a race:
// the write is conditioned on what was read (an etag, a version), and when
// someone else wrote first it is read and tried again, after a short,
// jittered pause so racing writers drift apart instead of colliding in
// step. The backoff is cenkalti/backoff's.
package retry

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// Attempts is how often Conflicts tries before giving up.
const Attempts = 8

// ErrExhausted is returned (wrapping the last conflict) when every attempt
// lost its race.
var ErrExhausted = errors.New("retry: the record kept changing")

// Conflicts runs attempt until it succeeds or fails with an error for which
// conflict is false; an error for which it is true (the record changed
// since it was read) makes it try again, at most Attempts times, with
// jittered exponential backoff from 1ms up to 50ms between tries. It returns
// what the successful attempt returned.
func Conflicts[T any](ctx context.Context, conflict func(error) bool, attempt func() (T, error)) (T, error) {
	return ConflictsUpTo(ctx, Attempts, conflict, attempt)
}

// ConflictsUpTo is Conflicts with its own bound on the attempts, for a
// write whose races are expected to be longer than most (a burst of
// writers all taking the next number of one sequence).
func ConflictsUpTo[T any](ctx context.Context, attempts uint, conflict func(error) bool, attempt func() (T, error)) (T, error) {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     time.Millisecond,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         50 * time.Millisecond,
	}
	var last error
	out, err := backoff.Retry(ctx, func() (T, error) {
		v, err := attempt()
		if err != nil && conflict(err) {
			last = err
			return v, err
		}
		if err != nil {
			return v, backoff.Permanent(err)
		}
		return v, nil
	}, backoff.WithBackOff(b), backoff.WithMaxTries(attempts), backoff.WithMaxElapsedTime(0))
	// backoff returns a permanent error still wrapped when it came on the
	// last try; callers see the attempt's own error either way.
	var permanent *backoff.PermanentError
	if errors.As(err, &permanent) {
		return out, permanent.Unwrap()
	}
	if err != nil && last != nil && errors.Is(err, last) {
		var zero T
		return zero, errors.Join(ErrExhausted, last)
	}
	return out, err
}

// Write reruns attempt, a write conditioned on what it read of the resource
// name, until it holds (see Conflicts); stale reports that the record
// changed since it was read. A client that pinned the etag it read gets
// the lost race as its own conflict at once (ETAG_MISMATCH), since the
// write would no longer be the one it asked for; otherwise, when every
// attempt lost, it gets ETAG_MISMATCH saying the record changes too often.
func Write[T any](ctx context.Context, name, clientEtag string, stale func(error) bool, attempt func() (T, error)) (T, error) {
	return WriteUpTo(ctx, Attempts, name, clientEtag, stale, attempt)
}

// WriteUpTo is Write with its own bound on the attempts (see
// ConflictsUpTo).
func WriteUpTo[T any](ctx context.Context, attempts uint, name, clientEtag string, stale func(error) bool, attempt func() (T, error)) (T, error) {
	out, err := ConflictsUpTo(ctx, attempts, func(err error) bool { return clientEtag == "" && stale(err) }, attempt)
	switch {
	case errors.Is(err, ErrExhausted):
		return out, apierr.TooContended(name)
	case err != nil && stale(err):
		return out, apierr.EtagMismatch(name)
	}
	return out, err
}
