package app

import (
	"errors"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// TestOutcomeOfAFailedWrite: a write whose backend call broke in the
// transport may have been applied (OUTCOME_UNKNOWN); one that could not
// even dial, a read, and a service's own answer keep their reason.
func TestOutcomeOfAFailedWrite(t *testing.T) {
	broken := status.Error(codes.Unavailable, "error reading from server: EOF")
	dial := status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:8081: connect: connection refused"`)
	said := apierr.Unavailable("membership's Redis", nil)
	for _, tc := range []struct {
		name, method string
		err          error
		want         apiv1.ErrorReason
		same         bool
	}{
		{"write broken mid-call", http.MethodPost, broken, apiv1.ErrorReason_OUTCOME_UNKNOWN, false},
		{"update broken mid-call", http.MethodPatch, broken, apiv1.ErrorReason_OUTCOME_UNKNOWN, false},
		{"delete broken mid-call", http.MethodDelete, broken, apiv1.ErrorReason_OUTCOME_UNKNOWN, false},
		{"read broken mid-call", http.MethodGet, broken, 0, true},
		{"write never dialled", http.MethodPost, dial, 0, true},
		{"the service's own answer", http.MethodPost, said, 0, true},
		{"another code", http.MethodPost, status.Error(codes.NotFound, "no"), 0, true},
		{"not a status", http.MethodPost, errors.New("boom"), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := outcome(tc.method, tc.err)
			if tc.same {
				if got != tc.err {
					t.Fatalf("outcome = %v, want %v unchanged", got, tc.err)
				}
				return
			}
			if status.Code(got) != codes.Unavailable || apierr.ReasonOf(got) != tc.want {
				t.Fatalf("outcome = %v (%v), want UNAVAILABLE %v", got, apierr.ReasonOf(got), tc.want)
			}
		})
	}
}

// TestSignInIssuerIsTheFirstTrusted: the document sends people to the
// first of the issuers the services trust, and names none when there is
// none.
func TestSignInIssuerIsTheFirstTrusted(t *testing.T) {
	for env, want := range map[string]string{
		"":                                       "",
		"https://sso.example.org":                "https://sso.example.org",
		" https://a.example , https://b.example": "https://a.example",
	} {
		if got := signInIssuer(func(string) string { return env }); got != want {
			t.Errorf("AUTH_OIDC_ISSUERS=%q: %q, want %q", env, got, want)
		}
	}
}
