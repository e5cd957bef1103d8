package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/auth"
)

type results struct {
	Machine                 string                   `json:"machine"`
	Clients                 int                      `json:"clients"`
	Round                   string                   `json:"round"`
	Rounds                  int                      `json:"rounds"`
	System                  summary                  `json:"system"`
	Bare                    summary                  `json:"bare"`
	Traced                  summary                  `json:"traced"`
	ThroughputRatio         float64                  `json:"throughputRatio"`
	TracedRatio             float64                  `json:"tracedRatio"`
	SpansExported           int                      `json:"otlpExportRequests"`
	HalfLoad                halfLoad                 `json:"halfLoad"`
	Storm                   storm                    `json:"storm"`
	AllocsPerRequest        perRequest               `json:"allocsPerRequest"`
	RedisCommandsPerRequest perRequest               `json:"redisCommandsPerRequest"`
	RedisCommandsByName     map[string]commandCounts `json:"redisCommandsPerRequestByName"`
	RSS                     map[string]rss           `json:"rssKiB"`
	Profiles                []profileSummary         `json:"profiles"`
}

type summary struct {
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	Failed            int64   `json:"failed"`
}

func summarise(rounds []saturation) summary {
	var ok, failed int64
	var elapsed time.Duration
	for _, r := range rounds {
		ok, failed, elapsed = ok+r.ok, failed+r.failed, elapsed+r.elapsed
	}
	return summary{RequestsPerSecond: float64(ok) / elapsed.Seconds(), Failed: failed}
}

type latency struct {
	P50    float64 `json:"p50ms"`
	P99    float64 `json:"p99ms"`
	Failed int     `json:"failed"`
	Late   int     `json:"notSentTooManyInFlight"`
}

type halfLoad struct {
	Rate     float64 `json:"requestsPerSecond"`
	System   latency `json:"system"`
	Bare     latency `json:"bare"`
	P50Ratio float64 `json:"p50Ratio"`
	P99Ratio float64 `json:"p99Ratio"`
}

type perRequest struct {
	System float64 `json:"system"`
	Bare   float64 `json:"bare"`
}

type rss struct {
	IdleKiB int64 `json:"idle"`
	LoadKiB int64 `json:"underLoad"`
}

type profileSummary struct {
	Process string   `json:"process"`
	Kind    string   `json:"kind"`
	File    string   `json:"file"`
	Top     []string `json:"top"`
}

type storm struct {
	Registrations     int     `json:"registrations"`
	Capacity          int     `json:"capacity"`
	Confirmed         int     `json:"confirmed"`
	Waitlisted        int     `json:"waitlisted"`
	Errors            int     `json:"errors"`
	StoredConfirmed   int     `json:"storedConfirmed"`
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	RatioToGet        float64 `json:"ratioToGet"`
	FirstError        string  `json:"firstError,omitempty"`
}

func (r results) print(w io.Writer) {
	fmt.Fprintf(w, "Chapterhouse system benchmark — %s\n", r.Machine)
	fmt.Fprintf(w, "authenticated member GET /v1/organizations/{id}; %d clients, %d interleaved rounds of %s per side\n\n", r.Clients, r.Rounds, r.Round)
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "measure\tsystem\tbaseline\tratio\tgoal")
	fmt.Fprintf(t, "GET throughput (req/s)\t%.0f\t%.0f\t%.2f\t≥ 0.80\n", r.System.RequestsPerSecond, r.Bare.RequestsPerSecond, r.ThroughputRatio)
	fmt.Fprintf(t, "p50 at %.0f req/s (ms)\t%.2f\t%.2f\t%.2f\t\n", r.HalfLoad.Rate, r.HalfLoad.System.P50, r.HalfLoad.Bare.P50, r.HalfLoad.P50Ratio)
	fmt.Fprintf(t, "p99 at %.0f req/s (ms)\t%.2f\t%.2f\t%.2f\t≤ 2.00\n", r.HalfLoad.Rate, r.HalfLoad.System.P99, r.HalfLoad.Bare.P99, r.HalfLoad.P99Ratio)
	fmt.Fprintf(t, "GET traced ÷ untraced (req/s)\t%.0f\t%.0f\t%.2f\t\n", r.Traced.RequestsPerSecond, r.System.RequestsPerSecond, r.TracedRatio)
	fmt.Fprintf(t, "registration storm ÷ GET (req/s)\t%.0f\t%.0f\t%.2f\t\n", r.Storm.RequestsPerSecond, r.System.RequestsPerSecond, r.Storm.RatioToGet)
	fmt.Fprintf(t, "allocations per GET (gateway+membership)\t%.0f\t%.0f\t%.2f\t\n", r.AllocsPerRequest.System, r.AllocsPerRequest.Bare, r.AllocsPerRequest.System/r.AllocsPerRequest.Bare)
	fmt.Fprintf(t, "Redis commands per GET (scripts' own included)\t%.2f\t%.2f\t%.2f\t\n", r.RedisCommandsPerRequest.System, r.RedisCommandsPerRequest.Bare, r.RedisCommandsPerRequest.System/r.RedisCommandsPerRequest.Bare)
	fmt.Fprintf(t, "  of which, by command\t%s\t%s\t\t\n", r.RedisCommandsByName["system"], r.RedisCommandsByName["bare"])
	fmt.Fprintf(t, "failed requests (saturation, half load)\t%d, %d\t%d, %d\t\t0\n", r.System.Failed, r.HalfLoad.System.Failed, r.Bare.Failed, r.HalfLoad.Bare.Failed)
	_ = t.Flush()
	fmt.Fprintf(w, "\nregistration storm: %d concurrent registrations for capacity %d: %d confirmed (%d stored), %d waitlisted, %d errors\n",
		r.Storm.Registrations, r.Storm.Capacity, r.Storm.Confirmed, r.Storm.StoredConfirmed, r.Storm.Waitlisted, r.Storm.Errors)
	if r.Storm.FirstError != "" {
		fmt.Fprintf(w, "  first error: %s\n", r.Storm.FirstError)
	}
	fmt.Fprintln(w, "\nresident memory (MiB)")
	t = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "process\tidle\tunder load")
	names := make([]string, 0, len(r.RSS))
	for n := range r.RSS {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		load := "-"
		if r.RSS[n].LoadKiB > 0 {
			load = fmt.Sprintf("%.1f", float64(r.RSS[n].LoadKiB)/1024)
		}
		fmt.Fprintf(t, "%s\t%.1f\t%s\n", n, float64(r.RSS[n].IdleKiB)/1024, load)
	}
	_ = t.Flush()
	for _, p := range r.Profiles {
		what := "CPU profile (top by cumulative time)"
		if p.Kind == "allocs" {
			what = "allocations (top by objects allocated)"
		}
		fmt.Fprintf(w, "\n%s of %s under the GET load; %s\n", what, p.Process, p.File)
		for _, line := range p.Top {
			fmt.Fprintln(w, "  "+line)
		}
	}
}

// registrationStorm creates a public activity of the given capacity and
// sends n registrations at once, each by a person of their own.
func registrationStorm(ctx context.Context, gateway string, signer *auth.Signer, n, capacity int) (storm, error) {
	s := storm{Registrations: n, Capacity: capacity}
	admin, err := signer.Sign(stack.AdminSubject, nil, time.Hour) // an admin by AUTH_FIRST_ADMIN
	if err != nil {
		return s, err
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	call := func(token, method, path string, body any) (int, map[string]any, error) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, gateway+path, bytes.NewReader(b))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, nil
	}
	now := time.Now().UTC()
	code, act, err := call(admin, "POST", "/v1/branches/ai/activities?activityId=storm", map[string]any{
		"kind": "ACTIVITY_KIND_INDUSTRY_EXCHANGE", "title": "Registration storm", "audience": "AUDIENCE_PUBLIC", "capacity": capacity,
		"location": "天津市滨海新区", "startTime": now.Add(2 * time.Hour).Format(time.RFC3339),
		"endTime": now.Add(4 * time.Hour).Format(time.RFC3339), "registrationCloseTime": now.Add(time.Hour).Format(time.RFC3339),
	})
	if err != nil || code != http.StatusOK {
		return s, fmt.Errorf("create the activity: %d %v %v", code, act, err)
	}
	name, _ := act["name"].(string)
	if code, out, err := call(admin, "POST", "/v1/"+name+":publish", map[string]any{}); err != nil || code != http.StatusOK {
		return s, fmt.Errorf("publish: %d %v %v", code, out, err)
	}
	tokens := make([]string, n)
	for i := range tokens {
		if tokens[i], err = signer.Sign(fmt.Sprintf("people/storm-%04d", i), nil, time.Hour); err != nil {
			return s, err
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			code, out, err := call(tokens[i], "POST", "/v1/"+name+":register", map[string]any{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil || code != http.StatusOK:
				s.Errors++
				if s.FirstError == "" {
					s.FirstError = fmt.Sprintf("%d %v %v", code, out, err)
				}
			case out["state"] == "REGISTRATION_STATE_CONFIRMED":
				s.Confirmed++
			case out["state"] == "REGISTRATION_STATE_WAITLISTED":
				s.Waitlisted++
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	s.RequestsPerSecond = float64(n) / time.Since(began).Seconds()
	// What is stored, read back: every confirmed registration, page by
	// page.
	for token := ""; ; {
		path := "/v1/" + name + "/registrations?pageSize=100&state=REGISTRATION_STATE_CONFIRMED"
		if token != "" {
			path += "&pageToken=" + token
		}
		code, page, err := call(admin, "GET", path, nil)
		if err != nil || code != http.StatusOK {
			return s, fmt.Errorf("list registrations: %d %v %v", code, page, err)
		}
		items, _ := page["registrations"].([]any)
		s.StoredConfirmed += len(items)
		token, _ = page["nextPageToken"].(string)
		if token == "" || strings.TrimSpace(token) == "" {
			break
		}
	}
	return s, nil
}

// String lists the counts by name, largest first: "hmget 1.00 evalsha 1.00".
func (c commandCounts) String() string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return c[names[i]] > c[names[j]] || c[names[i]] == c[names[j]] && names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.2f", n, c[n])
	}
	return strings.Join(parts, " ")
}
