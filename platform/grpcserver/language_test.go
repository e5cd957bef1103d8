package grpcserver_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// TestErrorsInTheCallersLanguage: a gRPC caller that asks for zh-CN in its
// accept-language metadata gets its refusal's texts in Chinese (a
// google.rpc.LocalizedMessage, as REST clients get it), the status message
// in English for its logs, and the content-language header naming the
// language; a caller who asks for nothing gets English.
func TestErrorsInTheCallersLanguage(t *testing.T) {
	h := start(t, nil)
	for _, tc := range []struct {
		ask, want string
	}{{"zh-CN,zh;q=0.9", "zh-CN"}, {"zh", "zh-CN"}, {"en-GB", "en"}, {"", "en"}, {"fr", "en"}} {
		ctx := withToken(context.Background(), h.tokenOf("people/alice"))
		if tc.ask != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "accept-language", tc.ask)
		}
		var hdr metadata.MD
		_, err := h.client.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{OrganizationId: "fails",
			Organization: &membershipv1.Organization{DisplayName: "x"}}, grpc.Header(&hdr))
		st := status.Convert(err)
		var lm *errdetails.LocalizedMessage
		for _, d := range st.Details() {
			if d, ok := d.(*errdetails.LocalizedMessage); ok {
				lm = d
			}
		}
		if lm == nil || lm.GetLocale() != tc.want || !strings.Contains(lm.GetMessage(), "organizations/fails") {
			t.Fatalf("accept-language %q: LocalizedMessage %v, want %s naming organizations/fails", tc.ask, lm, tc.want)
		}
		if han := strings.ContainsFunc(lm.GetMessage(), func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }); han != (tc.want == "zh-CN") {
			t.Fatalf("accept-language %q: %q is not in %s", tc.ask, lm.GetMessage(), tc.want)
		}
		if strings.ContainsFunc(st.Message(), func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
			t.Fatalf("the status message is for developers and logs, in English: %q", st.Message())
		}
		if got := hdr.Get("content-language"); len(got) != 1 || got[0] != tc.want {
			t.Fatalf("accept-language %q: content-language %v, want %s", tc.ask, got, tc.want)
		}
	}
}
