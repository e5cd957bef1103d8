// Command benchsystem measures the whole system against what a user would
// otherwise build, in one run on one machine, and reports ratios (which
// stay meaningful on a shared, noisy machine where absolute figures do
// not). It starts a real redis-server and, each component a process of its
// own on loopback: the system twice (untraced, and with every request
// traced and exported to a local OTLP sink) and the baseline, a bare
// REST → gRPC → Redis GET chain built with the same libraries (a
// grpc-gateway mux, a gRPC server, go-redis) and no domain logic. It is
// bounded in time (about two minutes) and stops everything it started.
//
//	make bench-system   # prints the table, writes bench-system.json
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/redistest"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func main() {
	if role := os.Getenv(roleEnv); role != "" {
		runRole(role)
		return
	}
	var cfg config
	flag.DurationVar(&cfg.round, "round", 3*time.Second, "length of each saturation round")
	flag.IntVar(&cfg.rounds, "rounds", 3, "saturation rounds per side, interleaved")
	flag.IntVar(&cfg.clients, "clients", 50, "concurrent clients in a saturation round")
	flag.DurationVar(&cfg.fixed, "fixed", 5*time.Second, "length of each fixed-rate round")
	flag.IntVar(&cfg.storm, "storm", 2000, "concurrent registrations in the storm")
	flag.IntVar(&cfg.capacity, "capacity", 100, "the storm's activity's capacity")
	flag.StringVar(&cfg.out, "out", "bench-system.json", "where to write the results")
	flag.StringVar(&cfg.profiles, "profiles", "", "directory for the CPU profiles (default: a temporary one)")
	flag.Parse()
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "benchsystem:", err)
		os.Exit(1)
	}
}

type config struct {
	round, fixed                     time.Duration
	rounds, clients, storm, capacity int
	out, profiles                    string
}

// system is one running copy of Chapterhouse.
type system struct {
	procs   []*proc
	gateway string // base URL
	addrs   map[string]string
}

func (s *system) byName(name string) *proc {
	for _, p := range s.procs {
		if strings.HasSuffix(p.name, "/"+name) {
			return p
		}
	}
	return nil
}

// orchestrator holds what every phase shares.
type orchestrator struct {
	dir    string
	redis  *redistest.Server
	signer *auth.Signer
	env    []string // settings every component of the system shares
	all    []*proc
}

func run(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "benchsystem-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if cfg.profiles == "" {
		cfg.profiles = dir
	}
	if err := os.MkdirAll(cfg.profiles, 0o750); err != nil {
		return err
	}
	rs, err := redistest.StartProcess()
	if err != nil {
		return err
	}
	defer rs.Stop()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer := auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience)
	pem, err := auth.PublicKeyPEM(signer.PublicKey())
	if err != nil {
		return err
	}
	pageKey, callKey := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(pageKey)
	_, _ = rand.Read(callKey)
	sink, err := startOTLPSink()
	if err != nil {
		return err
	}
	defer sink.Close()
	o := &orchestrator{dir: dir, redis: rs, signer: signer, env: []string{
		"AUTH_JWT_PUBLIC_KEYS=" + string(pem),
		// The benchmark's admin (a token's roles claim grants nothing).
		"AUTH_FIRST_ADMIN=" + stack.AdminSubject,
		"PAGE_TOKEN_KEYS=" + base64.StdEncoding.EncodeToString(pageKey),
		"SERVICE_CALL_KEYS=" + base64.StdEncoding.EncodeToString(callKey),
		"LOG_LEVEL=warn", "OTEL_METRICS_EXPORTER=none", "DRAIN_DELAY=0s",
		// The budgets are not what is measured: far above any rate here.
		"RATE_LIMIT_AUTHENTICATED=1000000/s", "RATE_LIMIT_ADMIN=1000000/s", "RATE_LIMIT_ANONYMOUS=1000000/s",
	}}
	defer func() {
		for _, p := range o.all {
			p.stop()
		}
	}()
	fmt.Fprintln(os.Stderr, "benchsystem: starting redis-server, two systems and the baseline ...")
	untraced, err := o.startSystem(ctx, "untraced", 0, []string{"OTEL_TRACES_SAMPLER=always_off", "OTEL_TRACES_EXPORTER=none"})
	if err != nil {
		return err
	}
	traced, err := o.startSystem(ctx, "traced", 1, []string{"OTEL_TRACES_SAMPLER=always_on", "OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + sink.Addr().String()})
	if err != nil {
		return err
	}
	bareURL, bare, err := o.startBaseline(ctx, untraced)
	if err != nil {
		return err
	}
	memberToken, err := signer.Sign(stack.MemberSubject, nil, time.Hour)
	if err != nil {
		return err
	}
	sysGet := target{url: untraced.gateway + "/v1/organizations/zhiyuan-ai", token: memberToken}
	tracedGet := target{url: traced.gateway + "/v1/organizations/zhiyuan-ai", token: memberToken}
	bareGet := target{url: bareURL + "/v1/organizations/zhiyuan-ai"}

	r := results{Machine: machine(), Clients: cfg.clients, Round: cfg.round.String(), Rounds: cfg.rounds}
	time.Sleep(2 * time.Second) // let start-up work settle before "idle"
	r.RSS = map[string]rss{}
	for _, p := range o.all {
		r.RSS[p.name] = rss{IdleKiB: p.rssKiB()}
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	background := backgroundCommands(ctx, rdb, 2*time.Second)

	l := newLoader()
	fmt.Fprintln(os.Stderr, "benchsystem: saturation rounds ...")
	for _, t := range []target{sysGet, tracedGet, bareGet} {
		l.saturate(ctx, t, cfg.clients, time.Second) // warm connections and caches
	}
	var sysSat, tracedSat, bareSat []saturation
	var sysAllocs, bareAllocs float64
	sysCommands, bareCommands := commandCounts{}, commandCounts{}
	var sysOK, bareOK int64
	hot := []*proc{untraced.byName("gateway"), untraced.byName("membership")}
	for i := range cfg.rounds {
		// The system, with its allocations, Redis commands and (in the
		// second round) CPU profiles of its hot path.
		before, cmds := mallocs(ctx, hot), commands(ctx, rdb)
		// CPU profiles in the second round, allocation profiles in the
		// third (a profile's own cost stays out of the other rounds).
		profiled := make(chan error, len(hot))
		kind := map[int]string{1: "profile", 2: "allocs"}[i]
		if kind != "" {
			for _, p := range hot {
				go func() {
					profiled <- p.profile(ctx, kind, cfg.round-500*time.Millisecond, profilePath(cfg.profiles, kind, p.name))
				}()
			}
		}
		s := l.saturate(ctx, sysGet, cfg.clients, cfg.round)
		sysSat = append(sysSat, s)
		sysAllocs += float64(mallocs(ctx, hot) - before)
		sysCommands.add(commands(ctx, rdb).since(cmds, background, s.elapsed))
		sysOK += s.ok
		r.noteLoadRSS(untraced.procs)
		if kind != "" {
			for range hot {
				if err := <-profiled; err != nil {
					return fmt.Errorf("profile: %w", err)
				}
			}
		}
		before, cmds = mallocs(ctx, bare), commands(ctx, rdb)
		b := l.saturate(ctx, bareGet, cfg.clients, cfg.round)
		bareSat = append(bareSat, b)
		bareAllocs += float64(mallocs(ctx, bare) - before)
		bareCommands.add(commands(ctx, rdb).since(cmds, background, b.elapsed))
		bareOK += b.ok
		r.noteLoadRSS(bare)
		tracedSat = append(tracedSat, l.saturate(ctx, tracedGet, cfg.clients, cfg.round))
	}
	r.System, r.Bare, r.Traced = summarise(sysSat), summarise(bareSat), summarise(tracedSat)
	r.ThroughputRatio = r.System.RequestsPerSecond / r.Bare.RequestsPerSecond
	r.TracedRatio = r.Traced.RequestsPerSecond / r.System.RequestsPerSecond
	r.AllocsPerRequest = perRequest{System: sysAllocs / float64(sysOK), Bare: bareAllocs / float64(bareOK)}
	r.RedisCommandsPerRequest = perRequest{System: sysCommands.total() / float64(sysOK), Bare: bareCommands.total() / float64(bareOK)}
	r.RedisCommandsByName = map[string]commandCounts{"system": sysCommands.per(sysOK), "bare": bareCommands.per(bareOK)}
	r.SpansExported = sink.spans()

	fmt.Fprintln(os.Stderr, "benchsystem: fixed-rate rounds at half the system's maximum ...")
	rate := r.System.RequestsPerSecond / 2
	sysFixed := l.fixed(ctx, sysGet, rate, cfg.fixed)
	bareFixed := l.fixed(ctx, bareGet, rate, cfg.fixed)
	r.HalfLoad = halfLoad{Rate: rate,
		System: latency{P50: ms(percentile(sysFixed.latencies, 0.5)), P99: ms(percentile(sysFixed.latencies, 0.99)), Failed: sysFixed.failed, Late: sysFixed.late},
		Bare:   latency{P50: ms(percentile(bareFixed.latencies, 0.5)), P99: ms(percentile(bareFixed.latencies, 0.99)), Failed: bareFixed.failed, Late: bareFixed.late},
	}
	r.HalfLoad.P50Ratio = r.HalfLoad.System.P50 / r.HalfLoad.Bare.P50
	r.HalfLoad.P99Ratio = r.HalfLoad.System.P99 / r.HalfLoad.Bare.P99

	fmt.Fprintln(os.Stderr, "benchsystem: registration storm ...")
	r.Storm, err = registrationStorm(ctx, untraced.gateway, signer, cfg.storm, cfg.capacity)
	if err != nil {
		r.Storm.FirstError = err.Error()
	}
	r.Storm.RatioToGet = r.Storm.RequestsPerSecond / r.System.RequestsPerSecond

	for _, kind := range []string{"profile", "allocs"} {
		for _, p := range hot {
			if cfg.rounds > map[string]int{"profile": 1, "allocs": 2}[kind] {
				r.Profiles = append(r.Profiles, profileTop(p.name, kind, profilePath(cfg.profiles, kind, p.name)))
			}
		}
	}
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfg.out, append(out, '\n'), 0o600); err != nil {
		return err
	}
	r.print(os.Stdout)
	fmt.Fprintf(os.Stdout, "\n(written to %s)\n", cfg.out)
	return nil
}

// startSystem starts the four services and the gateway on Redis database
// db, seeds the demo data and returns once the gateway serves it.
func (o *orchestrator) startSystem(ctx context.Context, label string, db int, extra []string) (*system, error) {
	names := []string{"membership", "governance", "activities", "standards"}
	s := &system{addrs: map[string]string{}}
	for _, n := range names {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s.addrs[n] = addr
	}
	gwAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(slices.Clone(o.env), extra...)
	env = append(env, fmt.Sprintf("REDIS_URL=redis://%s/%d", o.redis.Addr, db))
	for _, n := range names {
		env = append(env, strings.ToUpper(n)+"_ADDR="+s.addrs[n])
	}
	for _, n := range append(names, "gateway") {
		listen := gwAddr
		if n != "gateway" {
			listen = s.addrs[n]
		}
		p, err := startProc(o.dir, label+"/"+n, n, append(slices.Clone(env), "LISTEN_ADDR="+listen, "POD_NAME=bench-"+label+"-"+n))
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, p)
		o.all = append(o.all, p)
	}
	s.gateway = "http://" + gwAddr
	admin, err := o.signer.Sign(stack.AdminSubject, nil, time.Hour) // an admin by AUTH_FIRST_ADMIN
	if err != nil {
		return nil, err
	}
	for _, path := range []string{"/readyz", "/v1/branches/ai/members", "/v1/branches/ai/activities", "/v1/branches/ai/standards"} {
		if err := waitFor(ctx, s.gateway+path, admin, 30*time.Second); err != nil {
			return nil, fmt.Errorf("%s system: %w (logs in %s)", label, err, o.dir)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: o.redis.Addr, DB: db})
	defer rdb.Close()
	if err := stack.Attach(s.gateway, s.addrs, o.signer, rdb).Seed(ctx); err != nil {
		return nil, fmt.Errorf("%s system: seed: %w", label, err)
	}
	return s, nil
}

// startBaseline starts the bare chain over a copy of the organisation the
// system serves, and returns its base URL and processes.
func (o *orchestrator) startBaseline(ctx context.Context, sys *system) (string, []*proc, error) {
	conn, err := grpc.NewClient(sys.addrs["membership"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", nil, err
	}
	defer conn.Close()
	admin, err := o.signer.Sign(stack.AdminSubject, nil, time.Hour) // an admin by AUTH_FIRST_ADMIN
	if err != nil {
		return "", nil, err
	}
	org, err := membershipv1.NewMembershipServiceClient(conn).GetOrganization(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+admin), &membershipv1.GetOrganizationRequest{Name: "organizations/zhiyuan-ai"})
	if err != nil {
		return "", nil, err
	}
	data, err := proto.Marshal(org)
	if err != nil {
		return "", nil, err
	}
	const key = "benchsystem:bare:organization"
	rdb := redis.NewClient(&redis.Options{Addr: o.redis.Addr, DB: 2})
	defer rdb.Close()
	if err := rdb.Set(ctx, key, data, 0).Err(); err != nil {
		return "", nil, err
	}
	svcAddr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	gwAddr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	svc, err := startProc(o.dir, "bare/service", "bare-service", []string{"REDIS_URL=redis://" + o.redis.Addr + "/2", bareKeyEnv + "=" + key, bareListenEnv + "=" + svcAddr})
	if err != nil {
		return "", nil, err
	}
	o.all = append(o.all, svc)
	gw, err := startProc(o.dir, "bare/gateway", "bare-gateway", []string{bareAddrEnv + "=" + svcAddr, bareListenEnv + "=" + gwAddr})
	if err != nil {
		return "", nil, err
	}
	o.all = append(o.all, gw)
	url := "http://" + gwAddr
	if err := waitFor(ctx, url+"/v1/organizations/zhiyuan-ai", "", 15*time.Second); err != nil {
		return "", nil, fmt.Errorf("baseline: %w (logs in %s)", err, o.dir)
	}
	return url, []*proc{gw, svc}, nil
}

// noteLoadRSS keeps the largest resident set seen under load of procs.
func (r *results) noteLoadRSS(procs []*proc) {
	for _, p := range procs {
		e := r.RSS[p.name]
		e.LoadKiB = max(e.LoadKiB, p.rssKiB())
		r.RSS[p.name] = e
	}
}

func mallocs(ctx context.Context, procs []*proc) uint64 {
	var n uint64
	for _, p := range procs {
		n += p.mallocs(ctx)
	}
	return n
}

// commandCounts is Redis's count of calls so far by command (a Lua
// script's own calls included, so a script shows as evalsha plus what it
// ran).
type commandCounts map[string]float64

func commands(ctx context.Context, rdb *redis.Client) commandCounts {
	counts := commandCounts{}
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return counts
	}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseFloat(calls, 64)
		counts[name] = n
	}
	return counts
}

// since is c minus before, and minus what Redis runs with no requests
// (background, per second: the consumers' polling) over elapsed.
func (c commandCounts) since(before, background commandCounts, elapsed time.Duration) commandCounts {
	out := commandCounts{}
	for name, n := range c {
		if d := n - before[name] - background[name]*elapsed.Seconds(); d > 0.5 {
			out[name] = d
		}
	}
	return out
}

func (c commandCounts) add(other commandCounts) {
	for name, n := range other {
		c[name] += n
	}
}

// per divides every count by requests.
func (c commandCounts) per(requests int64) commandCounts {
	out := commandCounts{}
	for name, n := range c {
		if v := n / float64(requests); v >= 0.01 {
			out[name] = float64(int(v*100+0.5)) / 100
		}
	}
	return out
}

func (c commandCounts) total() float64 {
	var t float64
	for _, n := range c {
		t += n
	}
	return t
}

// backgroundCommands is what Redis runs per second with no requests.
func backgroundCommands(ctx context.Context, rdb *redis.Client, d time.Duration) commandCounts {
	before := commands(ctx, rdb)
	time.Sleep(d)
	after := commands(ctx, rdb)
	out := commandCounts{}
	for name, n := range after {
		out[name] = (n - before[name]) / d.Seconds()
	}
	out["info"] = 0
	return out
}

// otlpSink accepts OTLP/HTTP exports and counts them, so the traced system
// pays for real exports without a collector.
type otlpSink struct {
	net.Listener
	exports chan struct{}
}

func startOTLPSink() (*otlpSink, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &otlpSink{Listener: lis, exports: make(chan struct{}, 1<<20)}
	go func() {
		_ = http.Serve(lis, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { //nolint:gosec // G114: loopback sink for this run
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case s.exports <- struct{}{}:
			default:
			}
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		}))
	}()
	return s, nil
}

// spans is how many export requests arrived (each a batch of spans).
func (s *otlpSink) spans() int { return len(s.exports) }

func profilePath(dir, kind, process string) string {
	return filepath.Join(dir, kind+"-"+strings.ReplaceAll(process, "/", "-")+".pprof")
}

// profileTop is the top of a profile as go tool pprof prints it: CPU by
// cumulative time (the path a request takes), allocations by the
// function that allocated (where the objects come from).
func profileTop(name, kind, path string) profileSummary {
	args := []string{"tool", "pprof", "-top", "-cum", "-nodecount=25", path}
	if kind == "allocs" {
		args = []string{"tool", "pprof", "-top", "-sample_index=alloc_objects", "-nodecount=20", path}
	}
	out, err := exec.Command("go", args...).Output() //nolint:gosec // G204: our own profile file
	if err != nil {
		return profileSummary{Process: name, Kind: kind, File: path, Top: []string{"go tool pprof: " + err.Error()}}
	}
	var top []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "%") && !strings.HasPrefix(strings.TrimSpace(line), "Showing") {
			top = append(top, strings.TrimSpace(line))
		}
	}
	return profileSummary{Process: name, Kind: kind, File: path, Top: top}
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
