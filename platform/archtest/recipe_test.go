package archtest

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository's top folder (git's answer, so the test runs from
// any module).
func root(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// serviceNames are the folders under services/ that are Go modules.
func serviceNames(t *testing.T, top string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(top, "services"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(top, "services", e.Name(), "go.mod")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) < 2 {
		t.Fatalf("found services %v; the test would prove nothing", names)
	}
	return names
}

// wiring are the ways a file names a service as a part of the system (its
// module, its generated API, its proto files, its settings, its chart
// values), not in passing.
func wiring(service string) *regexp.Regexp {
	q := regexp.QuoteMeta(service)
	return regexp.MustCompile(`services/` + q + `\b|chapterhouse/` + q + `/v1|\b` + q + `v1\.|` + q + `\.proto|(?m)^` + q + `:|\b` +
		strings.ToUpper(q) + `_[A-Z]|Values\.` + q + `\b|"` + q + `"`)
}

// placesThatListTheServices derives, from the tree, every place adding a
// service must touch:
//   - a folder with an entry named for each service (services/<service>,
//     the locales' <service>.json, the events' <service>.proto): the new
//     service needs its entry, written "folder/<service>";
//   - a file other than a test, outside the services' own folders, that
//     names every service as a part of the system (a list of them).
func placesThatListTheServices(t *testing.T, top string, services []string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", top, "ls-files").Output()
	if err != nil {
		t.Fatal(err)
	}
	files := strings.Fields(string(out))
	perFolder := map[string]map[string]bool{}
	var places []string
	own := regexp.MustCompile(`^(services|contracts)/|^proto/gen/|^proto/chapterhouse/(` + strings.Join(services, "|") + `)/`)
	for _, f := range files {
		for dir, rest := "", f; rest != ""; {
			first, tail, _ := strings.Cut(rest, "/")
			stem, _, _ := strings.Cut(first, ".")
			if slices.Contains(services, stem) && !strings.HasPrefix(dir, "proto/gen") {
				if perFolder[dir] == nil {
					perFolder[dir] = map[string]bool{}
				}
				perFolder[dir][stem] = true
			}
			dir, rest = path.Join(dir, first), tail
		}
		if own.MatchString(f) || strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".md") || f == "go.work.sum" {
			continue
		}
		body, err := fs.ReadFile(os.DirFS(top), f)
		if err != nil {
			t.Fatal(err)
		}
		all := true
		for _, s := range services {
			all = all && wiring(s).Match(body)
		}
		if all {
			places = append(places, f)
		}
	}
	for dir, seen := range perFolder {
		if len(seen) == len(services) {
			places = append(places, path.Join(dir, "<service>"))
		}
	}
	slices.Sort(places)
	return places
}

// recipe is the text of CONTRIBUTING.md's "Add a service" section.
func recipe(t *testing.T, top string) string {
	t.Helper()
	doc, err := fs.ReadFile(os.DirFS(top), "CONTRIBUTING.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Add a service\n")
	if !ok {
		t.Fatal(`CONTRIBUTING.md has no "## Add a service" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestAddAServiceNamesEveryPlace: CONTRIBUTING's "Add a service" names
// every place the tree shows lists the services, so the recipe cannot
// fall behind the code; and every file it names exists.
func TestAddAServiceNamesEveryPlace(t *testing.T) {
	top := root(t)
	services := serviceNames(t, top)
	text := recipe(t, top)
	places := placesThatListTheServices(t, top, services)
	t.Logf("%d places list the services: %s", len(places), strings.Join(places, ", "))
	for _, p := range places {
		if !strings.Contains(text, "`"+p) {
			t.Errorf("CONTRIBUTING's \"Add a service\" does not name `%s`, which lists the services", p)
		}
	}
	named := regexp.MustCompile("`([a-zA-Z0-9_./-]+/[a-zA-Z0-9_.<>/-]+|go\\.work)`").FindAllStringSubmatch(text, -1)
	for _, m := range named {
		p := strings.ReplaceAll(m[1], "<service>", services[0])
		if _, err := os.Stat(filepath.Join(top, p)); err != nil {
			t.Errorf("CONTRIBUTING's \"Add a service\" names `%s`, which is not there (%v)", m[1], err)
		}
	}
}
