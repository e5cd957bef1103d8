package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	activities "github.com/tjsia/chapterhouse/services/activities/app"
	membership "github.com/tjsia/chapterhouse/services/membership/app"
	standards "github.com/tjsia/chapterhouse/services/standards/app"
)

// response is a decoded REST response.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) errorBody(t *testing.T) map[string]any {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no documented error body in %d response: %s", r.status, r.raw)
	}
	if int(e["code"].(float64)) != r.status || e["status"] == "" || e["message"] == "" {
		t.Fatalf("error body does not match its status %d: %s", r.status, r.raw)
	}
	// Every error names a reason from the one ErrorReason enum.
	if reason, _ := e["reason"].(string); apiv1.ErrorReason_value[reason] == 0 || e["domain"] != "chapterhouse" {
		t.Fatalf("error reason %q (domain %v) is not a chapterhouse.api.v1.ErrorReason: %s", reason, e["domain"], r.raw)
	}
	return e
}

type client struct {
	token   string
	headers map[string]string
	// base is the gateway URL; empty means the shared stack's.
	base string
}

func as(token string) client { return client{token: token} }

func (c client) with(k, v string) client {
	h := map[string]string{k: v}
	for k0, v0 := range c.headers {
		h[k0] = v0
	}
	c.headers = h
	return c
}

func (c client) do(t *testing.T, method, path string, body any) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := c.base
	if base == "" {
		base = sys.GatewayURL
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var bodyReader io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: bad gzip: %v", method, path, err)
		}
		bodyReader = gz
	}
	raw, err := io.ReadAll(bodyReader)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: response is not JSON: %v: %s", method, path, err, raw)
		}
	}
	if out.status >= 400 {
		// Every error, whatever produced it, has the documented body.
		out.errorBody(t)
	}
	return out
}

func (c client) ok(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	r := c.do(t, method, path, body)
	if r.status != http.StatusOK {
		t.Fatalf("%s %s = %d: %s", method, path, r.status, r.raw)
	}
	return r.body
}

// snapshot captures the stored state: every record, claim and index by
// value, and every stream by length and last id. Left out: consumer-group
// bookkeeping, and the read models other services keep of governance's
// branches ({mbr,act,std:branches}): they follow earlier events on their
// own time, and a refused request could only reach them through an event,
// which the streams' lengths would show.
func snapshot(t *testing.T) map[string]string { return snapshotOf(t, sys.Redis) }

// snapshotOf is snapshot of the store at rdb.
func snapshotOf(t *testing.T, rdb redis.UniversalClient) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	var keys []string
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// The gateway's request budgets (redis_rate's "rate:" keys) count
		// every call, refused ones too, by design.
		if strings.Contains(k, ":tries:") || readModel(k) || strings.HasPrefix(k, "rate:") {
			continue
		}
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if typ == "stream" {
			n, _ := rdb.XLen(ctx, k).Result()
			if n == 0 {
				// An empty stream is a consumer group made ready to
				// follow a branch (XGROUP CREATE MKSTREAM, on the
				// followers' own schedule), not anything a request wrote.
				continue
			}
			last, _ := rdb.XRevRangeN(ctx, k, "+", "-", 1).Result()
			id := ""
			if len(last) > 0 {
				id = last[0].ID
			}
			out[k] = typ + ":" + strconv.FormatInt(n, 10) + ":" + id
			continue
		}
		v, err := rdb.Dump(ctx, k).Result()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		out[k] = typ + ":" + v
	}
	return out
}

// readModel: k is a consumer's copy of governance's branches.
func readModel(k string) bool {
	for _, tag := range []string{membership.BranchesTag, activities.BranchesTag, standards.BranchesTag} {
		if strings.HasPrefix(k, "{"+tag+"}") {
			return true
		}
	}
	return false
}

func assertSameState(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range after {
		if before[k] != v {
			t.Errorf("key %s changed or appeared", k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("key %s disappeared", k)
		}
	}
}
