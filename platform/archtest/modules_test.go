package archtest

import (
	"encoding/json"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
)

// The project's parts and which others each may use. A service uses the
// platform, the generated API and the contracts (clients, stream names,
// the branch rules and their read model), never another service: what two
// services share is a contract, and a contract depends on no service. The
// devstack, the composition root of the whole system, is the only part
// that may name services, and Go's internal/ rule keeps it to each
// service's public packages; the gateway finds the services through their
// contracts.
var mayUse = map[string][]string{
	"proto":     {},
	"platform":  {"proto"},
	"contracts": {"platform", "proto"},
	"service":   {"platform", "proto", "contracts"},
	"gateway":   {"platform", "proto", "contracts"},
	"devstack":  {"platform", "proto", "contracts", "service", "gateway"},
}

// part names the project part a module or package path belongs to, and for
// a service which one (a service may always use itself). A path outside
// the project is "".
func part(importPath string) (kind, which string) {
	rest, ok := strings.CutPrefix(importPath, project)
	if !ok {
		return "", ""
	}
	first, tail, _ := strings.Cut(rest, "/")
	switch first {
	case "proto":
		return "proto", ""
	case "platform", "contracts", "gateway":
		return first, ""
	case "cmd":
		return "devstack", ""
	case "services":
		name, _, _ := strings.Cut(tail, "/")
		return "service", name
	}
	return "unknown", rest
}

// layerViolations lists every edge of graph (from a module or package to
// the ones it requires or imports) that mayUse does not allow.
func layerViolations(graph map[string][]string) []string {
	var bad []string
	for from, deps := range graph {
		fromKind, fromWhich := part(from)
		if fromKind == "" {
			continue
		}
		for _, dep := range deps {
			depKind, depWhich := part(dep)
			switch {
			case depKind == "":
				continue
			case fromKind == "unknown" || depKind == "unknown":
				bad = append(bad, from+" → "+dep+": a part of the project the architecture test does not know; give it its place in mayUse")
			case depKind == fromKind && depWhich == fromWhich:
				continue
			case depKind == "service" && fromKind == "service":
				bad = append(bad, from+" → "+dep+": a service uses another service only through contracts/")
			case !allowed(fromKind, depKind):
				bad = append(bad, from+" → "+dep+": "+fromKind+" may use only "+strings.Join(mayUse[fromKind], ", "))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

func allowed(from, to string) bool {
	for _, ok := range mayUse[from] {
		if ok == to {
			return true
		}
	}
	return false
}

// cycles lists each module that reaches itself through the requires of
// graph, with the path that closes the loop.
func cycles(graph map[string][]string) []string {
	var found []string
	for start := range graph {
		seen := map[string]bool{}
		var walk func(mod string, via []string) bool
		walk = func(mod string, via []string) bool {
			for _, dep := range graph[mod] {
				path := append(append([]string(nil), via...), dep)
				if dep == start {
					found = append(found, strings.Join(path, " → "))
					return true
				}
				if !seen[dep] {
					seen[dep] = true
					if walk(dep, path) {
						return true
					}
				}
			}
			return false
		}
		walk(start, []string{start})
	}
	sort.Strings(found)
	return found
}

// requires reads every workspace module's go.mod: its project requires.
func requires(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}}\t{{.GoMod}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		mod, gomod, _ := strings.Cut(line, "\t")
		raw, err := exec.Command("go", "mod", "edit", "-json", gomod).Output()
		if err != nil {
			t.Fatalf("go mod edit -json %s: %v", path.Base(gomod), err)
		}
		var file struct{ Require []struct{ Path string } }
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatalf("%s: %v", mod, err)
		}
		graph[mod] = nil
		for _, r := range file.Require {
			if strings.HasPrefix(r.Path, project) {
				graph[mod] = append(graph[mod], r.Path)
			}
		}
	}
	return graph
}

// TestNoModuleCycle: no workspace module requires one that requires it
// back, however far round.
func TestNoModuleCycle(t *testing.T) {
	graph := requires(t)
	if len(graph) < 8 {
		t.Fatalf("found %d workspace modules; the test would prove nothing", len(graph))
	}
	for _, c := range cycles(graph) {
		t.Errorf("module cycle: %s", c)
	}
}

// TestModulesRequireOnlyTheirLayers: a service module requires no other
// service, the platform no service or contract, contracts no service.
func TestModulesRequireOnlyTheirLayers(t *testing.T) {
	for _, v := range layerViolations(requires(t)) {
		t.Errorf("go.mod: %s", v)
	}
}

// TestPackagesImportOnlyTheirLayers: the same rule for every import of
// every workspace package, tests included (go list -test), so a test
// cannot reach into another service either.
func TestPackagesImportOnlyTheirLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f",
		"{{.ImportPath}}\t{{join .Imports \" \"}}", "work").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "\t")
		// A test variant is listed as "p [p.test]"; its imports are p's own.
		pkg, _, _ = strings.Cut(pkg, " ")
		graph[pkg] = append(graph[pkg], strings.Fields(deps)...)
	}
	if len(graph) < 50 {
		t.Fatalf("found %d packages; the test would prove nothing", len(graph))
	}
	for _, v := range layerViolations(graph) {
		t.Errorf("import: %s", v)
	}
}

// TestTheRulesCatchViolations: the checks above on a made-up graph that
// breaks each rule once, so a rule that stopped finding anything fails.
func TestTheRulesCatchViolations(t *testing.T) {
	p := func(s string) string { return project + s }
	graph := map[string][]string{
		p("services/activities"):       {p("services/membership"), p("contracts"), p("platform")},
		p("services/membership"):       {p("services/activities")},
		p("platform/eventstream"):      {p("services/governance/app")},
		p("contracts/membership/x"):    {p("services/membership/app")},
		p("services/standards/domain"): {p("services/standards/store"), p("contracts/governance/client")},
		p("gateway/app"):               {p("platform/auth"), p("proto/gen/go/chapterhouse/api/v1")},
		p("somewhere/new"):             {p("platform")},
	}
	layers := layerViolations(graph)
	want := []string{
		p("contracts/membership/x") + " → " + p("services/membership/app"),
		p("platform/eventstream") + " → " + p("services/governance/app"),
		p("services/activities") + " → " + p("services/membership"),
		p("services/membership") + " → " + p("services/activities"),
		p("somewhere/new") + " → " + p("platform"),
	}
	if len(layers) != len(want) {
		t.Fatalf("layer violations:\n%s\nwant one for each of:\n%s", strings.Join(layers, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(layers[i], want[i]+":") {
			t.Errorf("violation %d = %q, want %q", i, layers[i], want[i])
		}
	}
	if got := cycles(graph); len(got) != 2 {
		t.Errorf("cycles = %q, want the activities ⇄ membership loop seen from both ends", got)
	}
}
