package redistest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of redis-server children, all primaries.
type Cluster struct {
	Nodes []*Server
}

// Addrs are the nodes' addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// Client returns a cluster client; the caller closes it.
func (c *Cluster) Client() *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
}

// StartCluster starts a 3-primary Redis Cluster for t, with the slots
// spread over the nodes, and stops it when t ends. Like Start, it skips
// locally and fails under CI when redis-server or redis-cli is missing.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redistest: redis-cli is not installed, and CI must test a cluster: %v", err)
		}
		t.Skipf("redistest: redis-cli not installed: %v", err)
	}
	c := &Cluster{}
	for range 3 {
		n := Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		c.Nodes = append(c.Nodes, n)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: create cluster: %v\n%s", err, out)
	}
	if err := c.waitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *Cluster) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ready := true
		for _, n := range c.Nodes {
			client := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
			info, err := client.ClusterInfo(context.Background()).Result()
			client.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				ready = false
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redistest: cluster did not reach cluster_state:ok")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
