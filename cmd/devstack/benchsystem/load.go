package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is one GET the benchmark repeats.
type target struct {
	url, token string
}

// loader sends requests over one shared HTTP client.
type loader struct {
	client *http.Client
}

func newLoader() *loader {
	return &loader{client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
	}}}
}

// get sends one request and reports whether it answered 200.
func (l *loader) get(ctx context.Context, t target) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return false
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// saturation is a closed-loop round: clients send back to back for d.
type saturation struct {
	ok, failed int64
	elapsed    time.Duration
}

func (l *loader) saturate(ctx context.Context, t target, clients int, d time.Duration) saturation {
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if l.get(ctx, t) {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return saturation{ok: ok.Load(), failed: failed.Load(), elapsed: time.Since(start)}
}

// fixedRate is an open-loop round: requests start on a fixed schedule
// whatever the answers do, and each latency counts from the request's
// scheduled start, so a stall shows in the tail instead of silently
// slowing the sender (coordinated omission).
type fixedRate struct {
	latencies []time.Duration
	failed    int
	late      int // not sent: too many in flight (the system fell behind)
}

// maxInFlight bounds the open loop's goroutines on a system that stalls.
const maxInFlight = 2000

func (l *loader) fixed(ctx context.Context, t target, rate float64, d time.Duration) fixedRate {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	latencies := make([]time.Duration, n)
	okays := make([]bool, n)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	var late int
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case sem <- struct{}{}:
		default:
			late++
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			okays[i] = l.get(ctx, t)
			latencies[i] = time.Since(due)
		})
	}
	wg.Wait()
	out := fixedRate{late: late}
	for i, lat := range latencies {
		switch {
		case lat == 0:
		case !okays[i]:
			out.failed++
		default:
			out.latencies = append(out.latencies, lat)
		}
	}
	slices.Sort(out.latencies)
	return out
}

// percentile of sorted latencies, p in [0,1].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}
