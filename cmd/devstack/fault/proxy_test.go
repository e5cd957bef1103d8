package fault_test

import (
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/grpcclient"
)

// rawCodec passes messages through as bytes, so the proxy needs no
// knowledge of them.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*(v.(*[]byte)))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*(v.(*[]byte)) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// callStats counts what reached a proxy for one method.
type callStats struct {
	// attempts is every call that reached the proxy; calls those that
	// were a client's first attempt (no grpc-previous-rpc-attempts).
	attempts, calls int
	// before and after are the injected failures: before forwarding (the
	// service never saw the call) and after (it was applied, the reply
	// lost).
	before, after int
}

// faultProxy stands in front of one service, on the callee side: its
// callers (the gateway and the other services) dial it, and it forwards
// each call to the service, except that a share of the calls (not health
// checks) are answered UNAVAILABLE instead, half before they reach the
// service and half after the service answered.
type faultProxy struct {
	addr    string
	backend *grpc.ClientConn
	rate    float64

	mu    sync.Mutex
	rng   *rand.Rand
	stats map[string]*callStats
}

// startFaultProxy listens on a free loopback port in front of backend,
// failing rate of the calls.
func startFaultProxy(t *testing.T, rate float64, seed uint64) *faultProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A seeded generator: which calls fail is not a secret, and a run can
	// be repeated.
	p := &faultProxy{addr: lis.Addr().String(), rate: rate, rng: rand.New(rand.NewPCG(seed, seed)), stats: map[string]*callStats{}} //nolint:gosec // G404: see above
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}), grpc.UnknownServiceHandler(p.handle))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return p
}

// forward sends the proxy's calls to the service at addr.
func (p *faultProxy) forward(t *testing.T, addr string) {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p.backend = conn
}

func (p *faultProxy) handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	ctx := stream.Context()
	in, _ := metadata.FromIncomingContext(ctx)
	out := metadata.MD{}
	for k, v := range in {
		if strings.HasPrefix(k, ":") || strings.HasPrefix(k, "grpc-") || k == "content-type" || k == "user-agent" || k == "te" {
			continue
		}
		out[k] = v
	}
	var req []byte
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	fail := ""
	if !strings.HasPrefix(method, "/grpc.") {
		p.mu.Lock()
		st := p.stats[method]
		if st == nil {
			st = &callStats{}
			p.stats[method] = st
		}
		st.attempts++
		if len(in.Get("grpc-previous-rpc-attempts")) == 0 {
			st.calls++
		}
		switch r := p.rng.Float64(); {
		case r < p.rate/2:
			fail = "before"
			st.before++
		case r < p.rate:
			fail = "after"
			st.after++
		}
		p.mu.Unlock()
	}
	if fail == "before" {
		return status.Error(codes.Unavailable, "injected: the connection broke before the call reached the service")
	}
	var resp []byte
	var header, trailer metadata.MD
	err := p.backend.Invoke(metadata.NewOutgoingContext(ctx, out), method, &req, &resp,
		grpc.ForceCodecV2(rawCodec{}), grpc.Header(&header), grpc.Trailer(&trailer))
	if fail == "after" {
		return status.Error(codes.Unavailable, "injected: the connection broke after the service answered")
	}
	_ = stream.SetHeader(header)
	stream.SetTrailer(trailer)
	if err != nil {
		return err
	}
	return stream.SendMsg(&resp)
}

// reset forgets what was counted so far.
func (p *faultProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = map[string]*callStats{}
}

// totals sums the stats of the methods read (true) or the others.
func (p *faultProxy) totals(read bool) callStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum callStats
	for method, st := range p.stats {
		if isRead(method) != read {
			continue
		}
		sum.attempts += st.attempts
		sum.calls += st.calls
		sum.before += st.before
		sum.after += st.after
	}
	return sum
}

// isRead: the method is one the protos map to GET, which grpcclient
// retries.
func isRead(fullMethod string) bool {
	name := strings.Replace(strings.TrimPrefix(fullMethod, "/"), "/", ".", 1)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return false
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	return ok && grpcclient.IsRead(md)
}
