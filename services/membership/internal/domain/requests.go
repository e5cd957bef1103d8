// Resource names of the requests, parsed.

package domain

import (
	"context"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// --- names ---

func parseName(name string, collections ...string) ([]string, error) {
	return resourcename.Parse(name, collections...)
}

// ParseOrganizationName returns the id of organizations/{id}.
func ParseOrganizationName(name string) (string, error) {
	ids, err := parseName(name, "organizations")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ParsePersonName returns the id of people/{id}.
func ParsePersonName(name string) (string, error) {
	ids, err := parseName(name, "people")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

func (s *Service) parseBranch(ctx context.Context, parent string) (string, error) {
	ids, err := parseName(parent, "branches")
	if err != nil {
		return "", err
	}
	if ok, err := branches.Known(ctx, s.branches, ids[0]); err != nil || !ok {
		if err != nil {
			return "", err
		}
		return "", refusal(codes.NotFound, apiv1.ErrorReason_UNKNOWN_BRANCH, "unknown_branch", map[string]string{"resource": parent})
	}
	return ids[0], nil
}

func (s *Service) parseInBranch(ctx context.Context, name, collection string) (branch, id string, err error) {
	ids, err := parseName(name, "branches", collection)
	if err != nil {
		return "", "", err
	}
	if ok, err := branches.Known(ctx, s.branches, ids[0]); err != nil || !ok {
		if err != nil {
			return "", "", err
		}
		return "", "", apierr.NotFound(name)
	}
	return ids[0], ids[1], nil
}

// ParseInvitationName returns the id of invitations/{id}.
func ParseInvitationName(name string) (string, error) {
	ids, err := parseName(name, "invitations")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ParseAccountName returns the person's id and the account's id of
// people/{person}/accounts/{account}.
func ParseAccountName(name string) (person, id string, err error) {
	ids, err := parseName(name, "people", "accounts")
	if err != nil {
		return "", "", err
	}
	return ids[0], ids[1], nil
}

// ParseRoleBindingName returns the id of roleBindings/{id}.
func ParseRoleBindingName(name string) (string, error) {
	ids, err := parseName(name, "roleBindings")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}
