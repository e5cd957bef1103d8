// Command devstack runs the whole Chapterhouse system in one process — the
// four gRPC services and the REST gateway — on an embedded in-memory Redis
// (or a real one with --redis-url), seeds demo data and prints tokens.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
)

func main() {
	if bootstrap.PrintVersion(os.Args[1:], "devstack") {
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run() error {
	redisURL := flag.String("redis-url", "", "Redis to use instead of the embedded in-memory store (redis://host:6379/0)")
	httpAddr := flag.String("http-addr", "127.0.0.1:8080", "where the REST gateway listens")
	issuerAddr := flag.String("issuer-addr", "127.0.0.1:8090", "where the embedded OpenID Provider listens (its issuer is http://<this>)")
	tokensFile := flag.String("tokens-file", ".devstack/tokens.env", "where to write the demo tokens as shell exports (empty: don't)")
	seed := flag.Bool("seed", true, "load demo organisations, people and members")
	origins := flag.String("cors-origins", "http://localhost:3000", "comma-separated origins allowed to call the gateway from a browser")
	linkEmail := flag.Bool("link-verified-email", false, "link a signed-in identity to the one person whose e-mail its verified email claim names (AUTH_LINK_VERIFIED_EMAIL)")
	checkOpenAPI := flag.String("check-openapi", "", "hold every REST request and response to /openapi.json, and write what broke it to this file (JSON) at exit")
	flag.Parse()

	ctx, stop := bootstrap.SignalContext()
	defer stop()
	// Request logs would bury the URL and tokens: warnings only, unless
	// LOG_LEVEL asks for more.
	level := slog.LevelWarn
	if v := os.Getenv("LOG_LEVEL"); v != "" {
		_ = level.UnmarshalText([]byte(v))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *redisURL == "" {
		fmt.Println("Store: embedded in-memory Redis (miniredis). Data lives in memory only and is gone when devstack stops.")
		fmt.Println("       Use --redis-url redis://127.0.0.1:6379/0 to keep it in a real Redis.")
	} else {
		fmt.Println("Store:", *redisURL)
	}
	gatewayAddr := *httpAddr
	if *checkOpenAPI != "" {
		// The checker listens where the gateway would; the gateway takes
		// a free port behind it.
		gatewayAddr = "127.0.0.1:0"
	}
	s, err := stack.Start(ctx, stack.Options{RedisURL: *redisURL, HTTPAddr: gatewayAddr, IssuerAddr: *issuerAddr, Logger: logger, AllowedOrigins: strings.Split(*origins, ","),
		LinkVerifiedEmail: *linkEmail})
	if err != nil {
		if ctx.Err() != nil {
			// Ctrl-C while starting is a clean stop, not a failure.
			fmt.Println("\nStopped before the system was up.")
			return nil
		}
		return err
	}
	url := s.GatewayURL
	if *checkOpenAPI != "" {
		front, err := checkTraffic(ctx, *httpAddr, s.GatewayURL, *checkOpenAPI)
		if err != nil {
			_ = s.Stop()
			return err
		}
		defer front()
		url = "http://" + *httpAddr
	}
	// The seed, then the printed tokens: the demo people's own, from the
	// embedded provider through the flow an app uses (without the seed
	// there are no people to sign in as).
	var tokens []stack.DemoToken
	if *seed {
		fmt.Println("Loading the demo data...")
		seedCtx, cancel := context.WithTimeout(ctx, time.Minute)
		err := s.Seed(seedCtx)
		if err == nil {
			tokens, err = s.SignInDemo(seedCtx)
		}
		cancel()
		if err != nil {
			stopErr := s.Stop()
			if ctx.Err() != nil {
				// Ctrl-C while seeding is a clean stop, not a failure.
				fmt.Println("\nStopped before the demo data was loaded.")
				return stopErr
			}
			return err
		}
	}
	fmt.Printf("\nChapterhouse is running.\n  REST gateway: %s\n  OpenAPI:      %s/openapi.json\n", url, url)
	for _, name := range slices.Sorted(maps.Keys(s.Addrs)) {
		fmt.Printf("  gRPC %-11s %s\n", name+":", s.Addrs[name])
	}
	fmt.Printf("\nOpenID Provider (development only: sign in by picking a seeded person, no passwords):\n"+
		"  Issuer:       %s  (discovery: %s/.well-known/openid-configuration)\n"+
		"  Login page:   %s  (an app's authorization request opens it)\n"+
		"  Client id:    %s  (public, PKCE S256; redirect URIs %s)\n",
		s.Issuer, s.Issuer, s.LoginURL, stack.AppClientID, strings.Join(stack.AppRedirectURIs, ", "))
	fmt.Printf("\nDemo bearer tokens: the seeded people signed in at the provider, linked to their\n"+
		"accounts by invitation (the admin by configuration), roles granted as role bindings\n"+
		"(valid %.0f hours; a restart mints new ones):\n", stack.DemoAccessTokenLifetime.Hours())
	var exports strings.Builder
	fmt.Fprintf(&exports, "export CH_URL=%s\n", url)
	fmt.Fprintf(&exports, "export CH_ISSUER=%s\nexport CH_CLIENT_ID=%s\n", s.Issuer, stack.AppClientID)
	// One seeded person's provider subject, for the README's "Signing in"
	// walkthrough (examples/signinclient signs in as them): chen-lao, whom
	// no other walkthrough signs in as.
	fmt.Fprintf(&exports, "export CH_SUBJECT_CHEN_LAO=%s\n", stack.IdentitySubject("chen-lao"))
	for _, t := range tokens {
		fmt.Printf("  %-16s %s (%s)\n    %s\n", t.Env, t.Subject, t.Role, t.Token)
		fmt.Fprintf(&exports, "export %s=%s\n", t.Env, t.Token)
	}
	if *tokensFile != "" {
		if err := os.MkdirAll(filepath.Dir(*tokensFile), 0o700); err == nil {
			if err := os.WriteFile(*tokensFile, []byte(exports.String()), 0o600); err == nil {
				fmt.Printf("\nThe same as shell exports: source %s\n", *tokensFile)
			}
		}
	}
	fmt.Println("\nPress Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Println("\nStopping…")
	if err := s.Stop(); err != nil {
		slog.Error("devstack: stop", "err", err)
		return err
	}
	fmt.Println("Stopped.")
	return nil
}
