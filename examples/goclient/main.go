// Command goclient is a client generated from /openapi.json at work: the
// README's "For client developers" section generates chapterhouse.gen.go
// here with oapi-codegen, and CI builds and runs this against make run. It
// reads the public branch without a token, lists the branch's members with
// one, and shows a refusal as the typed error body.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
)

func main() {
	if err := run(context.Background(), os.Getenv("CH_URL"), os.Getenv("ADMIN_TOKEN")); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, token string) error {
	if url == "" || token == "" {
		return errors.New("set CH_URL and ADMIN_TOKEN (source .devstack/tokens.env)")
	}
	anonymous, err := NewClientWithResponses(url)
	if err != nil {
		return err
	}
	branch, err := anonymous.GovernanceServiceGetBranchWithResponse(ctx, "ai", nil)
	if err != nil {
		return err
	}
	if branch.JSON200 == nil {
		return fmt.Errorf("branch: HTTP %d", branch.StatusCode())
	}
	minimum := int32(0)
	if p := branch.JSON200.Parameters; p != nil { // a message field: present when set
		minimum = p.MinExchangeActivitiesPerYear // a scalar: always present
	}
	fmt.Printf("branch %s: %s, at least %d exchange activities a year\n", branch.JSON200.Name, branch.JSON200.DisplayName, minimum)

	admin, err := NewClientWithResponses(url, WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		return err
	}
	members, err := admin.MembershipServiceListMembersWithResponse(ctx, "ai", nil)
	if err != nil {
		return err
	}
	if members.JSON200 == nil {
		return fmt.Errorf("members: HTTP %d", members.StatusCode())
	}
	fmt.Printf("members: %d\n", len(members.JSON200.Members))

	// A refusal is the typed error body: branch on its reason.
	missing, err := admin.MembershipServiceGetPersonWithResponse(ctx, "nobody-here", nil)
	if err != nil {
		return err
	}
	if missing.JSON404 == nil {
		return fmt.Errorf("a missing person: HTTP %d, not the documented 404", missing.StatusCode())
	}
	fmt.Printf("a missing person: HTTP %d %s (%s)\n", missing.StatusCode(), missing.JSON404.Error.Reason, missing.JSON404.Error.Message)
	return nil
}
