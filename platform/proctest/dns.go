package proctest

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is a loopback DNS server answering A queries for the names a test
// sets, as a headless Kubernetes Service answers with one address per
// pod. A gRPC client reaches it with a target naming it as the
// authority, dns://<Addr>/<name>:<port>, so several replicas of a
// service (each on its own loopback address, 127.0.0.1, 127.0.0.2, …)
// are one target, the way the services dial each other in a cluster.
// Other names and types get no answer records.
type DNS struct {
	conn  net.PacketConn
	mu    sync.Mutex
	hosts map[string][]netip.Addr
}

// StartDNS starts the server for t.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{conn: conn, hosts: map[string][]netip.Addr{}}
	t.Cleanup(func() { conn.Close() })
	go d.serve()
	return d
}

// Addr is the server's host:port.
func (d *DNS) Addr() string { return d.conn.LocalAddr().String() }

// Target is the gRPC target of name at port through this server.
func (d *DNS) Target(name, port string) string { return "dns://" + d.Addr() + "/" + name + ":" + port }

// Set makes name resolve to addrs (IPv4).
func (d *DNS) Set(name string, addrs ...netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hosts[canonical(name)] = addrs
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (d *DNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := d.answer(buf[:n]); ok {
			_, _ = d.conn.WriteTo(resp, from)
		}
	}
}

func (d *DNS) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	d.mu.Lock()
	addrs, known := d.hosts[canonical(q.Name.String())]
	d.mu.Unlock()
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RCode: rcode})
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if known && q.Type == dnsmessage.TypeA {
		for _, a := range addrs {
			if !a.Is4() {
				continue
			}
			rh := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 1}
			if b.AResource(rh, dnsmessage.AResource{A: a.As4()}) != nil {
				return nil, false
			}
		}
	}
	resp, err := b.Finish()
	return resp, err == nil
}
