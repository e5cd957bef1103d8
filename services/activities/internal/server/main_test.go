package server_test

import (
	"os"
	"testing"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
)

// reasons is every reason this package's tests saw a method answer.
// TestMain holds the methods' comments to it: each reason a comment names
// is met by some test here (servicetest.RunCheckingReasons). Every test
// server also holds its answers to the names check
// (servicetest.CheckNames).
var reasons = servicetest.NewReasons()

func TestMain(m *testing.M) {
	os.Exit(servicetest.RunCheckingReasons(m, reasons, activitiesv1.ActivitiesService_ServiceDesc))
}
