package grpcserver_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
)

// TestCancelledCallIsCancelledNotInternal: a call its caller cancels while
// the store waits ends with the store's "context canceled" error; the
// service answers and logs it as CANCELLED, at info level, never as an
// INTERNAL error.
func TestCancelledCallIsCancelledNotInternal(t *testing.T) {
	var logs servicetest.LogBuffer
	h := start(t, func(c *grpcserver.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	ctx, cancel := context.WithCancel(withToken(context.Background(), h.tokenOf("people/alice")))
	time.AfterFunc(200*time.Millisecond, cancel)
	_, _ = h.activities.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai",
		Activity: &activitiesv1.Activity{Title: "waits"}})
	var line string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "CreateActivity") {
				line = l
			}
		}
		if line != "" {
			break
		}
	}
	if line == "" {
		t.Fatalf("no log line for the call: %s", logs.String())
	}
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "code=Canceled") || !strings.Contains(line, "reason=CANCELLED") {
		t.Fatalf("the cancelled call was logged as %q, want level=INFO code=Canceled reason=CANCELLED", line)
	}
}
