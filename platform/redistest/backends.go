package redistest

import (
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// ForEachBackend runs fn as two subtests: against a real redis-server (the
// production engine) and against miniredis (the embedded default of
// `make run`), each a fresh, empty server. Scripts and stream commands must
// behave the same on both.
func ForEachBackend(t *testing.T, fn func(t *testing.T, c *redis.Client)) {
	t.Helper()
	t.Run("redis-server", func(t *testing.T) {
		c := Start(t).Client()
		t.Cleanup(func() { _ = c.Close() })
		fn(t, c)
	})
	t.Run("miniredis", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
		t.Cleanup(func() { _ = c.Close() })
		fn(t, c)
	})
}
