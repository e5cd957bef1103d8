// Package grpcclient dials the Chapterhouse services the way every caller
// should: a dns:/// target resolved to every pod behind a headless Service,
// round_robin over them, OpenTelemetry instrumentation, keepalive pings,
// reconnect backoff tuned to how the services restart, a default deadline
// per call, and retries of the read methods (those the protos map to HTTP
// GET) when a pod is briefly unavailable. The servers' MaxConnectionAge
// (platform/grpcserver) closes connections regularly, and each reconnect
// resolves the name again, so pods added by a scale-up get traffic.
package grpcclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver/dns"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/servicecall"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

// DefaultTimeout is the deadline of a call whose context has none sooner.
const DefaultTimeout = 5 * time.Second

// Config says what is dialled and how it is observed.
type Config struct {
	Telemetry *telemetry.Providers
	// Services are the full names of the gRPC services reached through this
	// connection (e.g. chapterhouse.membership.v1.MembershipService); their
	// read methods are retried on UNAVAILABLE.
	Services []string
	// Timeout per call; DefaultTimeout when zero.
	Timeout time.Duration
	// Caller, when set, is the Chapterhouse service dialling: every call
	// carries its service credential (platform/servicecall), so the callee
	// knows which service acts for the caller whose token the call
	// carries. The gateway sets none.
	Caller *servicecall.Caller
}

// Target turns an address into a dns:/// target, so that every address
// the name resolves to is used. A target that already names a scheme is
// returned unchanged, with or without an authority: dns:///name:port, or
// dns://10.0.0.10:53/name:port to ask that DNS server.
func Target(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "dns:///" + addr
}

// Dial returns a client connection to target (see Target). It does not
// block: the connection is made on first use.
func Dial(target string, cfg Config, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	if cfg.Telemetry == nil {
		return nil, errors.New("grpcclient: telemetry providers are required")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	serviceConfig, err := ServiceConfig(cfg.Services, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(cfg.Telemetry.TracerProvider),
			otelgrpc.WithMeterProvider(cfg.Telemetry.MeterProvider),
			otelgrpc.WithPropagators(cfg.Telemetry.Propagator),
		)),
		grpc.WithDefaultServiceConfig(serviceConfig),
		// Ping idle connections so a vanished pod is noticed in seconds, not
		// at the next call's timeout.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		// A restarted pod is back within a second or two: retry soon, and
		// never wait longer than a few seconds between attempts.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}
	if cfg.Caller != nil {
		if cfg.Caller.Keys == nil || cfg.Caller.Service == "" {
			return nil, errors.New("grpcclient: a Caller needs its service name and keys")
		}
		opts = append(opts, grpc.WithChainUnaryInterceptor(cfg.Caller.UnaryClientInterceptor()))
	}
	conn, err := grpc.NewClient(Target(target), append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("grpcclient: dial %s: %w", target, err)
	}
	return conn, nil
}

type methodName struct {
	Service string `json:"service"`
	Method  string `json:"method,omitempty"`
}

type methodConfig struct {
	Name        []methodName `json:"name"`
	Timeout     string       `json:"timeout,omitempty"`
	RetryPolicy *retryPolicy `json:"retryPolicy,omitempty"`
}

type retryPolicy struct {
	MaxAttempts          int      `json:"maxAttempts"`
	InitialBackoff       string   `json:"initialBackoff"`
	MaxBackoff           string   `json:"maxBackoff"`
	BackoffMultiplier    float64  `json:"backoffMultiplier"`
	RetryableStatusCodes []string `json:"retryableStatusCodes"`
}

// ServiceConfig is the gRPC service config for services: round_robin, a
// timeout for every method, and retries on UNAVAILABLE for the read
// methods. Writes are never retried here: a write whose reply was lost is
// retried by the client with its Idempotency-Key.
func ServiceConfig(services []string, timeout time.Duration) (string, error) {
	var all, reads []methodName
	for _, s := range services {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(s))
		if err != nil {
			return "", fmt.Errorf("grpcclient: service %s: %w", s, err)
		}
		sd, ok := desc.(protoreflect.ServiceDescriptor)
		if !ok {
			return "", fmt.Errorf("grpcclient: %s is not a service", s)
		}
		all = append(all, methodName{Service: s})
		for i := 0; i < sd.Methods().Len(); i++ {
			if IsRead(sd.Methods().Get(i)) {
				reads = append(reads, methodName{Service: s, Method: string(sd.Methods().Get(i).Name())})
			}
		}
	}
	cfg := struct {
		LoadBalancingConfig []map[string]any `json:"loadBalancingConfig"`
		MethodConfig        []methodConfig   `json:"methodConfig,omitempty"`
	}{LoadBalancingConfig: []map[string]any{{"round_robin": map[string]any{}}}}
	to := fmt.Sprintf("%.3fs", timeout.Seconds())
	if len(all) > 0 {
		cfg.MethodConfig = append(cfg.MethodConfig, methodConfig{Name: all, Timeout: to})
	}
	if len(reads) > 0 {
		cfg.MethodConfig = append(cfg.MethodConfig, methodConfig{Name: reads, Timeout: to, RetryPolicy: &retryPolicy{
			MaxAttempts: 3, InitialBackoff: "0.05s", MaxBackoff: "0.5s", BackoffMultiplier: 2,
			RetryableStatusCodes: []string{"UNAVAILABLE"},
		}})
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("grpcclient: service config: %w", err)
	}
	return string(b), nil
}

// IsRead reports whether the proto maps md to an HTTP GET: a safe method,
// which may be retried.
func IsRead(md protoreflect.MethodDescriptor) bool {
	rule, ok := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	return ok && rule.GetGet() != ""
}

// MinResolutionInterval is how soon grpc-go's DNS resolver may look a name
// up again after its last look. Its default, 30 s, kept a caller on a
// replaced pod's old address for up to 30 s after the new pod served: the
// one replica of a service was down that long after each restart (fault
// test TestOneReplicaMovesToANewAddress: 28 s). A second costs one DNS
// query per second per target at most, and only while connections fail.
const MinResolutionInterval = time.Second

// ConfigureProcess applies the process-wide part of how callers dial:
// grpc-go's DNS resolver setting is global, so the binary's main sets it
// once (bootstrap.Main, under bootstrap.Serve, does) rather than every Dial.
func ConfigureProcess() {
	dns.SetMinResolutionInterval(MinResolutionInterval)
}
