package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/tjsia/chapterhouse/cmd/devstack/openapicheck"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// checkTraffic serves addr as a reverse proxy to the gateway at upstream
// that holds every exchange to the served OpenAPI document. The returned
// stop closes it and writes the report to reportFile.
func checkTraffic(ctx context.Context, addr, upstream, reportFile string) (stop func(), err error) {
	checker, err := openapicheck.New(ctx, openapi.Document())
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("check-openapi: %w", err)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("check-openapi: %w", err)
	}
	srv := &http.Server{Handler: checker.Handler(httputil.NewSingleHostReverseProxy(target)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	return func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		report := checker.Report()
		raw, err := json.MarshalIndent(report, "", "  ")
		if err == nil {
			err = os.WriteFile(reportFile, raw, 0o600)
		}
		if err != nil && !errors.Is(err, os.ErrClosed) {
			fmt.Fprintln(os.Stderr, "check-openapi: write report:", err)
		}
		fmt.Printf("OpenAPI check: %d exchanges, %d not matching the document (report: %s)\n", report.Checked, len(report.Failures), reportFile)
	}, nil
}
