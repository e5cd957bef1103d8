package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSmuggledRequestIsNeverServed writes, over a raw TCP connection to the
// real gateway server, a request with both Content-Length and
// Transfer-Encoding: chunked whose Content-Length covers a second request
// after the chunks: what a proxy framing by Content-Length forwards as one
// request. The gateway answers the first and closes the connection (RFC
// 9112 §6.1), so the smuggled one never reaches a service. A request
// framed by Content-Length alone keeps its connection: the next request on
// it is served.
func TestSmuggledRequestIsNeverServed(t *testing.T) {
	rec := &recorder{}
	addr, signer := runGateway(t, rec)
	token, err := signer.Sign("people/li-na", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := "GET /v1/people/smuggled HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + token + "\r\n\r\n"
	body := `{"displayName":"Acme"}`

	t.Run("Content-Length and chunked", func(t *testing.T) {
		chunks := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		first, second := exchange(t, addr, "POST /v1/organizations HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer "+token+
			"\r\nContent-Type: application/json\r\n"+fmt.Sprintf("Content-Length: %d\r\n", len(chunks)+len(get))+
			"Transfer-Encoding: chunked\r\n\r\n"+chunks+get)
		for _, c := range rec.all() {
			if c.method == "GetPerson" {
				t.Error("the smuggled request reached the service")
			}
		}
		if second != nil {
			t.Errorf("the smuggled request was answered: %d", second.StatusCode)
		}
		if first == nil || first.StatusCode != http.StatusOK || !first.Close {
			t.Fatalf("first answer %+v: want 200 with Connection: close", first)
		}
	})
	t.Run("Content-Length alone", func(t *testing.T) {
		first, second := exchange(t, addr, "POST /v1/organizations HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer "+token+
			"\r\nContent-Type: application/json\r\n"+fmt.Sprintf("Content-Length: %d\r\n", len(body))+"\r\n"+body+get)
		if first == nil || first.StatusCode != http.StatusOK || first.Close {
			t.Fatalf("first answer %+v: want 200, connection kept", first)
		}
		if second == nil || second.StatusCode != http.StatusOK {
			t.Fatalf("the next request on a kept connection: %+v", second)
		}
	})
}

// exchange writes raw to a new connection to addr and reads up to two
// responses; a nil response is one that never came (the connection was
// closed).
func exchange(t *testing.T, addr, raw string) (first, second *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	read := func() *http.Response {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "connection reset") {
				t.Fatalf("reading a response: %v", err)
			}
			return nil
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	first = read()
	if first != nil {
		second = read()
	}
	return first, second
}
