package accesslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tjsia/chapterhouse/gateway/internal/accesslog"
)

// TestOneLinePerRequest: the line names the route template, the status,
// the bytes and the principal the gateway verified (set from inside, as
// the rate limiter does), and never the token, the query or the body.
func TestOneLinePerRequest(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	h := accesslog.Handler(log, "X-Request-Id")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accesslog.SetRoute(r.Context(), text("/v1/{name=branches/*/standards/*}"))
		accesslog.SetPrincipal(r.Context(), "people/ann")
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "people/ann", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).
		SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/branches/ai/standards/s1?secret=q", strings.NewReader(`{"password":"p"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), req)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines: %s", len(lines), out.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"request_id": "req-1", "principal": "people/ann", "method": "POST",
		"route": "/v1/{name=branches/*/standards/*}", "status": 201.0, "bytes": 11.0}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("no duration")
	}
	for _, secret := range []string{token, "secret=q", "password"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the line contains %q", secret)
		}
	}
}

// TestNoLineBelowItsLevel: a logger above Info writes nothing and spends
// nothing on the line.
func TestNoLineBelowItsLevel(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := accesslog.Handler(log, "X-Request-Id")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/x", nil))
	if out.Len() != 0 {
		t.Fatalf("wrote %q", out.String())
	}
}

// text is a route template as the mux's pattern gives it: a Stringer.
type text string

func (t text) String() string { return string(t) }
