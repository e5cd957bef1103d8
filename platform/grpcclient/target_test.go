package grpcclient_test

import (
	"testing"

	"github.com/tjsia/chapterhouse/platform/grpcclient"
)

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"membership:8081", "dns:///membership:8081"},
		{"dns:///membership:8081", "dns:///membership:8081"},
		// A DNS server of its own (the fault tests' replicas).
		{"dns://127.0.0.1:5353/membership.test:8081", "dns://127.0.0.1:5353/membership.test:8081"},
		{"passthrough:///127.0.0.1:8081", "passthrough:///127.0.0.1:8081"},
	} {
		if got := grpcclient.Target(tc.in); got != tc.want {
			t.Errorf("Target(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
