package apilint

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// The API files: every service proto, and the files beside it that hold
// its messages (governance's are split by resource), so every resource and
// field is checked. Each import registers its file.
var apiFiles = []protoreflect.FileDescriptor{
	membershipv1.File_chapterhouse_membership_v1_membership_proto,
	membershipv1.File_chapterhouse_membership_v1_accounts_proto,
	governancev1.File_chapterhouse_governance_v1_governance_proto,
	governancev1.File_chapterhouse_governance_v1_charter_proto,
	governancev1.File_chapterhouse_governance_v1_terms_proto,
	governancev1.File_chapterhouse_governance_v1_meetings_proto,
	governancev1.File_chapterhouse_governance_v1_resolutions_proto,
	governancev1.File_chapterhouse_governance_v1_workplans_proto,
	governancev1.File_chapterhouse_governance_v1_compliance_proto,
	activitiesv1.File_chapterhouse_activities_v1_activities_proto,
	standardsv1.File_chapterhouse_standards_v1_standards_proto,
}

// Exceptions to the rules below, each with its reason. A key is the full
// name of the field, message or method excused; an exception that excuses
// nothing in a full run fails it (TestMain), so the list stays honest.
var exceptions = map[string]string{
	"chapterhouse.activities.v1.ActivitiesService.GetAnnualQuota": "a computed, per-year view of a branch (A1), " +
		"read like an AIP-156 singleton at branches/{branch}/annualQuota; no resource is stored, and REST clients already use the path",
	"chapterhouse.governance.v1.Term#server-assigned-id": "a term's id is its number (branches/ai/terms/1), " +
		"which the request carries as term.number; a second id would only be able to disagree with it",
	"chapterhouse.governance.v1.Vote": "a ballot is only ever replaced whole by the same voter's next one, and the last one counts " +
		"(CastResolutionVote); there is no concurrent edit for an etag to guard",
	"chapterhouse.membership.v1.Invitation#server-assigned-id": "an invitation is reached by its code, never by a name its issuer chose; " +
		"a retried CreateInvitation is made safe by its Idempotency-Key, which replays the first answer and its code",
	"chapterhouse.membership.v1.RoleBinding#server-assigned-id": "a grant is an act recorded, not a thing its granter names: a person holds a role " +
		"through one ACTIVE binding (ROLE_ALREADY_GRANTED names it), and a retry is made safe by its Idempotency-Key",
	"chapterhouse.standards.v1.Signatory#server-assigned-id": "a signatory's id is the signing member's id (one signature per member), " +
		"which the request carries as signatory.member",
}

// etagField is exempt from the field_behavior rule: AIP-154 leaves the
// etag unannotated, because the client sends it and the server returns it.
const etagField = "etag"

func behaviors(fd protoreflect.FieldDescriptor) []annotations.FieldBehavior {
	b, _ := proto.GetExtension(fd.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return b
}

func resourceOf(md protoreflect.MessageDescriptor) *annotations.ResourceDescriptor {
	r, _ := proto.GetExtension(md.Options(), annotations.E_Resource).(*annotations.ResourceDescriptor)
	return r
}

func referenceOf(fd protoreflect.FieldDescriptor) *annotations.ResourceReference {
	r, _ := proto.GetExtension(fd.Options(), annotations.E_ResourceReference).(*annotations.ResourceReference)
	return r
}

func httpOf(md protoreflect.MethodDescriptor) *annotations.HttpRule {
	r, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	return r
}

// excused records every exception that excused something in this run, so
// TestMain can fail for one that no longer does.
var excused sync.Map

// problems collects findings.
type problems struct {
	t       *testing.T
	reports []string
}

func (p *problems) add(subject protoreflect.FullName, format string, args ...any) {
	if _, ok := exceptions[string(subject)]; ok {
		excused.Store(string(subject), true)
		return
	}
	p.reports = append(p.reports, fmt.Sprintf("%s: %s", subject, fmt.Sprintf(format, args...)))
}

func (p *problems) done() {
	sort.Strings(p.reports)
	for _, r := range p.reports {
		p.t.Error(r)
	}
}

func messagesOf(fd protoreflect.FileDescriptor) []protoreflect.MessageDescriptor {
	var out []protoreflect.MessageDescriptor
	var walk func(protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			out = append(out, ms.Get(i))
			walk(ms.Get(i).Messages())
		}
	}
	walk(fd.Messages())
	return out
}

// isResource: a message with an IDENTIFIER name field is a resource.
func isResource(md protoreflect.MessageDescriptor) bool {
	f := md.Fields().ByName("name")
	return f != nil && slices.Contains(behaviors(f), annotations.FieldBehavior_IDENTIFIER)
}

// knownTypes are every resource type the API defines: resource messages
// and file-level resource_definitions.
func knownTypes(t *testing.T) map[string]*annotations.ResourceDescriptor {
	t.Helper()
	types := map[string]*annotations.ResourceDescriptor{}
	for _, f := range apiFiles {
		for _, md := range messagesOf(f) {
			if r := resourceOf(md); r != nil {
				types[r.GetType()] = r
			}
		}
	}
	defs, _ := proto.GetExtension(apiv1.File_chapterhouse_api_v1_annotations_proto.Options(), annotations.E_ResourceDefinition).([]*annotations.ResourceDescriptor)
	for _, d := range defs {
		if existing, ok := types[d.GetType()]; ok && !proto.Equal(existing, d) {
			t.Errorf("resource_definition %s differs from the message that owns it: %v vs %v", d.GetType(), d, existing)
		}
		types[d.GetType()] = d
	}
	return types
}

// TestResourceAnnotations: every resource message declares its resource
// (type chapterhouse.tjsia.org/<Message>, a pattern, singular and plural),
// and every field of it says how it behaves.
func TestResourceAnnotations(t *testing.T) {
	p := &problems{t: t}
	for _, f := range apiFiles {
		for _, md := range messagesOf(f) {
			if !isResource(md) {
				if resourceOf(md) != nil {
					p.add(md.FullName(), "has a resource annotation but no IDENTIFIER name field")
				}
				continue
			}
			r := resourceOf(md)
			switch {
			case r == nil:
				p.add(md.FullName(), "is a resource (IDENTIFIER name) without a google.api.resource annotation")
				continue
			case r.GetType() != "chapterhouse.tjsia.org/"+string(md.Name()):
				p.add(md.FullName(), "resource type %q, want chapterhouse.tjsia.org/%s", r.GetType(), md.Name())
			case len(r.GetPattern()) == 0 || r.GetSingular() == "" || r.GetPlural() == "":
				p.add(md.FullName(), "resource annotation lacks a pattern, singular or plural: %v", r)
			}
			for i := 0; i < md.Fields().Len(); i++ {
				fd := md.Fields().Get(i)
				if fd.Name() == etagField {
					continue
				}
				if len(behaviors(fd)) == 0 {
					p.add(fd.FullName(), "resource field without google.api.field_behavior")
				}
			}
		}
	}
	p.done()
}

// TestResourceReferences: every name and parent field of a request names
// the resource it refers to, and every reference names a type the API
// defines.
func TestResourceReferences(t *testing.T) {
	types := knownTypes(t)
	p := &problems{t: t}
	for _, f := range apiFiles {
		for _, md := range messagesOf(f) {
			for i := 0; i < md.Fields().Len(); i++ {
				fd := md.Fields().Get(i)
				ref := referenceOf(fd)
				if ref != nil {
					typ := ref.GetType() + ref.GetChildType()
					if _, ok := types[typ]; !ok {
						p.add(fd.FullName(), "references %q, which no proto defines", typ)
					}
				}
				isRequest := strings.HasSuffix(string(md.Name()), "Request")
				if isRequest && (fd.Name() == "name" || fd.Name() == "parent") && ref == nil {
					p.add(fd.FullName(), "%s field without google.api.resource_reference", fd.Name())
				}
			}
		}
	}
	if _, ok := types["chapterhouse.tjsia.org/Branch"]; !ok {
		t.Error("no resource_definition for chapterhouse.tjsia.org/Branch")
	}
	p.done()
}

// resourceByName maps resource message names to their descriptors.
func resourceByName() map[protoreflect.Name]protoreflect.MessageDescriptor {
	out := map[protoreflect.Name]protoreflect.MessageDescriptor{}
	for _, f := range apiFiles {
		for _, md := range messagesOf(f) {
			if isResource(md) {
				out[md.Name()] = md
			}
		}
	}
	return out
}

func lowerSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func fieldIs(md protoreflect.MessageDescriptor, name protoreflect.Name, kind protoreflect.Kind) protoreflect.FieldDescriptor {
	fd := md.Fields().ByName(name)
	if fd == nil || fd.Kind() != kind {
		return nil
	}
	return fd
}

// TestStandardMethods: Get, List, Create and Update of a resource have
// the request and response shapes of AIP-131/132/133/134 and their HTTP
// verbs; custom methods are POST (or GET for reads) with a verb suffix.
func TestStandardMethods(t *testing.T) {
	resources := resourceByName()
	p := &problems{t: t}
	for _, f := range apiFiles {
		for si := 0; si < f.Services().Len(); si++ {
			sd := f.Services().Get(si)
			for mi := 0; mi < sd.Methods().Len(); mi++ {
				checkMethod(p, sd.Methods().Get(mi), resources)
			}
		}
	}
	p.done()
}

func checkMethod(p *problems, m protoreflect.MethodDescriptor, resources map[protoreflect.Name]protoreflect.MessageDescriptor) {
	name := string(m.Name())
	in, out := m.Input(), m.Output()
	rule := httpOf(m)
	if rule == nil {
		p.add(m.FullName(), "no google.api.http annotation")
		return
	}
	requireField := func(field protoreflect.Name, kind protoreflect.Kind) protoreflect.FieldDescriptor {
		fd := fieldIs(in, field, kind)
		if fd == nil {
			p.add(m.FullName(), "request has no %s field of kind %v", field, kind)
		}
		return fd
	}
	switch {
	case strings.HasPrefix(name, "Get") && resources[protoreflect.Name(strings.TrimPrefix(name, "Get"))] != nil:
		res := resources[protoreflect.Name(strings.TrimPrefix(name, "Get"))]
		if out.FullName() != res.FullName() {
			p.add(m.FullName(), "returns %s, want the resource %s", out.FullName(), res.FullName())
		}
		if fd := requireField("name", protoreflect.StringKind); fd != nil && !slices.Contains(behaviors(fd), annotations.FieldBehavior_REQUIRED) {
			p.add(fd.FullName(), "is not REQUIRED")
		}
		if rule.GetGet() == "" {
			p.add(m.FullName(), "is not an HTTP GET")
		}
	case strings.HasPrefix(name, "List"):
		plural := strings.TrimPrefix(name, "List")
		requireField("page_size", protoreflect.Int32Kind)
		requireField("page_token", protoreflect.StringKind)
		if fieldIs(out, "next_page_token", protoreflect.StringKind) == nil {
			p.add(m.FullName(), "response has no next_page_token")
		}
		items := out.Fields().ByName(protoreflect.Name(lowerSnake(plural)))
		if items == nil || !items.IsList() || items.Message() == nil || !isResource(items.Message()) {
			p.add(m.FullName(), "response has no repeated resource field %s", lowerSnake(plural))
		}
		if rule.GetGet() == "" {
			p.add(m.FullName(), "is not an HTTP GET")
		}
		if items != nil && items.Message() != nil && strings.Count(patternOf(items.Message()), "/") > 1 {
			requireField("parent", protoreflect.StringKind)
		}
	case strings.HasPrefix(name, "Create") && resources[protoreflect.Name(strings.TrimPrefix(name, "Create"))] != nil:
		res := resources[protoreflect.Name(strings.TrimPrefix(name, "Create"))]
		singular := lowerSnake(string(res.Name()))
		if out.FullName() != res.FullName() {
			p.add(m.FullName(), "returns %s, want the resource %s", out.FullName(), res.FullName())
		}
		if fd := in.Fields().ByName(protoreflect.Name(singular)); fd == nil || fd.Message() == nil || fd.Message().FullName() != res.FullName() {
			p.add(m.FullName(), "request has no %s field of the resource", singular)
		} else if !slices.Contains(behaviors(fd), annotations.FieldBehavior_REQUIRED) {
			p.add(fd.FullName(), "is not REQUIRED")
		}
		if strings.Count(patternOf(res), "/") > 1 {
			requireField("parent", protoreflect.StringKind)
		}
		if id := in.Fields().ByName(protoreflect.Name(singular + "_id")); id == nil && !hasServerOnlyIDs(res) {
			p.add(m.FullName(), "request has no %s_id (AIP-133 user-specified id)", singular)
		}
		if rule.GetPost() == "" || rule.GetBody() != singular {
			p.add(m.FullName(), "is not an HTTP POST with body %q", singular)
		}
	case strings.HasPrefix(name, "Update") && resources[protoreflect.Name(strings.TrimPrefix(name, "Update"))] != nil:
		res := resources[protoreflect.Name(strings.TrimPrefix(name, "Update"))]
		singular := lowerSnake(string(res.Name()))
		if out.FullName() != res.FullName() {
			p.add(m.FullName(), "returns %s, want the resource %s", out.FullName(), res.FullName())
		}
		if fd := in.Fields().ByName(protoreflect.Name(singular)); fd == nil || fd.Message() == nil || fd.Message().FullName() != res.FullName() {
			p.add(m.FullName(), "request has no %s field of the resource", singular)
		}
		if mask := in.Fields().ByName("update_mask"); mask == nil || mask.Message() == nil || mask.Message().FullName() != "google.protobuf.FieldMask" {
			p.add(m.FullName(), "request has no update_mask")
		}
		if rule.GetPatch() == "" || rule.GetBody() != singular {
			p.add(m.FullName(), "is not an HTTP PATCH with body %q", singular)
		}
		if res.Fields().ByName(etagField) == nil {
			p.add(res.FullName(), "is updatable but has no etag")
		}
	default:
		// A custom method (AIP-136): a verb after a colon, POST to change
		// or GET to read.
		path := rule.GetPost() + rule.GetGet()
		if path == "" {
			p.add(m.FullName(), "custom method is neither POST nor GET")
		} else if !strings.Contains(path[strings.LastIndex(path, "/")+1:], ":") && !strings.HasSuffix(path, "}") {
			p.add(m.FullName(), "custom method path %q has no :verb", path)
		}
		// A custom method that changes a resource returns it, and the
		// resource must carry an etag for it.
		if res, ok := resources[out.Name()]; ok && rule.GetPost() != "" && res.Fields().ByName(etagField) == nil {
			p.add(res.FullName(), "is changed by %s but has no etag", m.Name())
		}
	}
}

func patternOf(md protoreflect.MessageDescriptor) string {
	if r := resourceOf(md); r != nil && len(r.GetPattern()) > 0 {
		return r.GetPattern()[0]
	}
	return ""
}

// hasServerOnlyIDs: resources whose ids the server always assigns carry
// that decision in an exception, named by the resource.
func hasServerOnlyIDs(md protoreflect.MessageDescriptor) bool {
	key := string(md.FullName()) + "#server-assigned-id"
	_, ok := exceptions[key]
	if ok {
		excused.Store(key, true)
	}
	return ok
}

// TestMain fails the run when an exception excused nothing: the list cannot
// outlive what it excuses. Only a full run can tell, so a run narrowed with
// -run skips the check.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		for key := range exceptions {
			if _, ok := excused.Load(key); !ok {
				fmt.Fprintf(os.Stderr, "exception %q excuses nothing in the API any more: remove it\n", key)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// TestEveryServiceIsChecked: apiFiles holds every proto under proto/ that
// declares a service, and every proto beside one (its messages, when they
// are split by resource), so a new service or message file cannot skip
// these rules.
func TestEveryServiceIsChecked(t *testing.T) {
	protos := os.DirFS("../../proto")
	sources, err := fs.Glob(protos, "chapterhouse/*/v1/*.proto")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no protos found: %v", err)
	}
	checked := map[string]bool{}
	for _, f := range apiFiles {
		checked[f.Path()] = true
	}
	services := map[string]bool{}
	serviceDirs := map[string]bool{}
	for _, src := range sources {
		text, err := fs.ReadFile(protos, src)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^service \w+ \{`).Match(text) {
			continue
		}
		services[src] = true
		serviceDirs[path.Dir(src)] = true
		if !checked[src] {
			t.Errorf("%s declares a service but is not in apiFiles", src)
		}
	}
	for _, src := range sources {
		if serviceDirs[path.Dir(src)] && !services[src] && !checked[src] {
			t.Errorf("%s sits beside a service proto but is not in apiFiles", src)
		}
	}
}
