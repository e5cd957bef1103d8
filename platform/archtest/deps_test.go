package archtest

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const (
	project   = "github.com/tjsia/chapterhouse/"
	generated = "github.com/tjsia/chapterhouse/proto/gen/go/"
)

// imports lists every workspace package's direct imports (go list, over
// every module of go.work).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}", "work").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "\t")
		graph[pkg] = strings.Fields(deps)
	}
	return graph
}

// TestDomainsDoNoIO: the rules live in domain packages that do no I/O. A
// domain may not import go-redis or net/http, nor a store or server
// package, neither itself nor through any of the project's own packages
// it uses: imports run server → domain ← store, the domain declaring the
// repository its store implements. Third-party and
// generated API packages are not followed: what grpc links is grpc's.
func TestDomainsDoNoIO(t *testing.T) {
	graph := imports(t)
	forbidden := func(pkg string) bool {
		return pkg == "net/http" || strings.HasPrefix(pkg, "github.com/redis/go-redis/") ||
			strings.HasSuffix(pkg, "/internal/store") || strings.HasSuffix(pkg, "/internal/server")
	}
	var domains []string
	for pkg := range graph {
		if strings.HasSuffix(pkg, "/internal/domain") {
			domains = append(domains, pkg)
		}
	}
	sort.Strings(domains)
	if len(domains) < 2 {
		t.Fatalf("found %d domain packages (%v); the test would prove nothing", len(domains), domains)
	}
	for _, d := range domains {
		// Depth-first through the project's own, non-generated packages,
		// remembering how each was reached.
		seen := map[string]bool{}
		var walk func(pkg string, path []string)
		walk = func(pkg string, path []string) {
			if seen[pkg] {
				return
			}
			seen[pkg] = true
			for _, dep := range graph[pkg] {
				via := append(append([]string(nil), path...), dep)
				if forbidden(dep) {
					t.Errorf("%s depends on %s: %s", d, dep, strings.Join(via, " → "))
					continue
				}
				if strings.HasPrefix(dep, project) && !strings.HasPrefix(dep, generated) {
					walk(dep, via)
				}
			}
		}
		walk(d, []string{d})
		t.Logf("%s: %d project packages checked", d, len(seen))
	}
}
