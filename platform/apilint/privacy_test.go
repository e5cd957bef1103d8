package apilint

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/privacy"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// looksPrivate: field names that say they hold a person's private data.
var looksPrivate = regexp.MustCompile(`(^|_)(birth|phone|e?mail|contact)(_|$)`)

// staticRoles are the roles a readers option may name.
var staticRoles = []string{auth.RoleAdmin, auth.RoleGeneralSecretary, auth.RoleGeneralCouncil}

// serviceNames are the services a readers option may name: the <name> of
// each API's package, chapterhouse.<name>.v1, as each service calls itself.
func serviceNames() []string {
	var out []string
	for _, f := range apiFiles {
		out = append(out, strings.Split(string(f.Package()), ".")[1])
	}
	return out
}

// TestPrivateFieldsDeclareReaders holds the privacy rule's declaration:
// every field whose name says it holds private data (birth, phone, email,
// contact) carries (chapterhouse.api.v1.readers); each readers option
// names at least one reader, and only known roles and services; a message
// whose private fields are read by their subject names that person
// (data_subject, a string field of its own), or is only ever held inside
// messages that do.
func TestPrivateFieldsDeclareReaders(t *testing.T) {
	p := &problems{t: t}
	defer p.done()
	services := serviceNames()
	var all []protoreflect.MessageDescriptor
	for _, f := range apiFiles {
		all = append(all, messagesOf(f)...)
	}
	for _, md := range all {
		if sf := privacy.SubjectField(md); sf == nil {
			if name := dataSubjectName(md); name != "" {
				p.add(md.FullName(), "data_subject %q names no field of %s", name, md.Name())
			}
		} else if sf.Kind() != protoreflect.StringKind || sf.Cardinality() == protoreflect.Repeated {
			p.add(md.FullName(), "data_subject %s must be a singular string field (a person's name)", sf.Name())
		}
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			r := privacy.ReadersOf(fd)
			if r == nil {
				if looksPrivate.MatchString(string(fd.Name())) {
					p.add(fd.FullName(), "looks private but declares no (chapterhouse.api.v1.readers)")
				}
				continue
			}
			if !r.GetSubject() && len(r.GetRoles()) == 0 && len(r.GetServices()) == 0 {
				p.add(fd.FullName(), "readers names nobody")
			}
			for _, role := range r.GetRoles() {
				if !slices.Contains(staticRoles, role) {
					p.add(fd.FullName(), "readers names role %q, not one of %v", role, staticRoles)
				}
			}
			for _, s := range r.GetServices() {
				if !slices.Contains(services, s) {
					p.add(fd.FullName(), "readers names service %q, not one of %v", s, services)
				}
			}
			if r.GetSubject() && !aboutSomeone(md, all, map[protoreflect.FullName]bool{}) {
				p.add(fd.FullName(), "is read by its subject, but %s names no person (data_subject) and is held where none is named", md.Name())
			}
		}
	}
}

// dataSubjectName is md's data_subject option as written, "" without one.
func dataSubjectName(md protoreflect.MessageDescriptor) string {
	name, _ := proto.GetExtension(md.Options(), apiv1.E_DataSubject).(string)
	return name
}

// aboutSomeone: a message of type md is always about a named person: it
// names one itself, or every field of every message that holds it is in a
// message about someone (and some message holds it).
func aboutSomeone(md protoreflect.MessageDescriptor, all []protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if privacy.SubjectField(md) != nil {
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	held := false
	for _, outer := range all {
		fields := outer.Fields()
		for i := 0; i < fields.Len(); i++ {
			if fields.Get(i).Message() == nil || fields.Get(i).Message().FullName() != md.FullName() {
				continue
			}
			held = true
			if !aboutSomeone(outer, all, seen) {
				return false
			}
		}
	}
	return held
}
