// Package branches is how the other services know governance's branches.
// Governance owns them (their existence and charter parameters) and
// publishes every change as BranchCreated and BranchUpdated on its
// branches stream; each consumer keeps them in a read model of its own
// (package directory), so no setting of another service can disagree with
// governance, and a consumer keeps answering while governance is down.
// This package is what a consumer's domain depends on: the question, not
// the storage.
package branches

import (
	"context"
	"errors"
	"path"
	"slices"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// ErrUnknown: governance has not created the branch (or its creation has
// not reached this service yet).
var ErrUnknown = errors.New("branches: unknown branch")

// Lookup answers which branches exist and what their parameters are.
type Lookup interface {
	// Branch returns the branch, or ErrUnknown.
	Branch(ctx context.Context, id string) (*governancev1.Branch, error)
	// IDs lists every known branch's id, sorted.
	IDs(ctx context.Context) ([]string, error)
}

// Known reports whether l knows branch id: false, not an error, for a
// branch governance has not created; any other failure of l is returned.
func Known(ctx context.Context, l Lookup, id string) (bool, error) {
	_, err := l.Branch(ctx, id)
	if errors.Is(err, ErrUnknown) {
		return false, nil
	}
	return err == nil, err
}

// Static is a fixed Lookup, for tests and tools.
type Static []*governancev1.Branch

// Branch returns one of the branches.
func (s Static) Branch(_ context.Context, id string) (*governancev1.Branch, error) {
	for _, b := range s {
		if path.Base(b.GetName()) == id {
			return b, nil
		}
	}
	return nil, ErrUnknown
}

// IDs lists them.
func (s Static) IDs(context.Context) ([]string, error) {
	out := make([]string, 0, len(s))
	for _, b := range s {
		out = append(out, path.Base(b.GetName()))
	}
	slices.Sort(out)
	return out, nil
}
