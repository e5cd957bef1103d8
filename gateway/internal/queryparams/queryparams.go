// Package queryparams tells which query parameters each REST route takes,
// read from the services' google.api.http annotations, so the gateway can
// refuse one it does not take. grpc-gateway ignores an unknown parameter,
// which turns a misspelt filter into "list everything" and a misspelt
// client-chosen id into a generated one.
package queryparams

import (
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// route is one HTTP binding: its request message and the fields the path
// and the body already fill.
type route struct {
	input protoreflect.MessageDescriptor
	// bound are the dotted field paths the path template fills.
	bound []string
	// body is the rule's body: "" (none), "*" (every field, so no
	// parameter is taken) or the top-level field the body fills.
	body string
}

// Checker knows the routes of a set of services.
type Checker struct {
	routes map[string]route // "VERB pattern"
}

// New reads the HTTP bindings of every method of services.
func New(services ...protoreflect.ServiceDescriptor) *Checker {
	c := &Checker{routes: map[string]route{}}
	for _, s := range services {
		methods := s.Methods()
		for i := range methods.Len() {
			m := methods.Get(i)
			rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule == nil {
				continue
			}
			for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
				verb, path := binding(r)
				if verb == "" {
					continue
				}
				c.routes[verb+" "+canonicalTemplate(path)] = route{
					input: m.Input(),
					bound: pathFields(path),
					body:  r.GetBody(),
				}
			}
		}
	}
	return c
}

func binding(r *annotations.HttpRule) (verb, path string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get
	case *annotations.HttpRule_Post:
		return "POST", p.Post
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch
	case *annotations.HttpRule_Put:
		return "PUT", p.Put
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath()
	}
	return "", ""
}

// canonicalTemplate writes a path template as grpc-gateway's
// runtime.Pattern prints it, the form the mux hands its middlewares: a
// bare variable "{name}" is "{name=*}".
func canonicalTemplate(path string) string {
	return bareVariable.ReplaceAllString(path, "{$1=*}")
}

var bareVariable = regexp.MustCompile(`\{([^=}]+)\}`)

// pathFields are the variables of a path template: "{name=people/*}" →
// "name".
func pathFields(path string) []string {
	var fields []string
	for rest := path; ; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			return fields
		}
		rest = rest[open+1:]
		end := strings.IndexAny(rest, "=}")
		if end < 0 {
			return fields
		}
		fields = append(fields, rest[:end])
	}
}

// Unknown returns the first (in sorted order, so the answer is stable)
// parameter of query that the route verb+pattern (as runtime.Pattern's
// String prints it) does not take, and
// whether there is one. A route it does not know takes anything: it is
// not an API method.
func (c *Checker) Unknown(verb, pattern string, query url.Values) (string, bool) {
	r, ok := c.routes[verb+" "+pattern]
	if !ok || len(query) == 0 {
		return "", false
	}
	params := make([]string, 0, len(query))
	for p := range query {
		params = append(params, p)
	}
	sort.Strings(params)
	for _, p := range params {
		if !r.takes(p) {
			return p, true
		}
	}
	return "", false
}

// takes reports whether param ("state", "pageSize", "filter.kind")
// names a field of the request that neither the path nor the body fills;
// like grpc-gateway, it accepts a field's JSON name or its proto name.
func (r route) takes(param string) bool {
	if r.body == "*" {
		return false
	}
	parts := strings.Split(param, ".")
	msg := r.input
	var path []string
	for i, part := range parts {
		f := msg.Fields().ByJSONName(part)
		if f == nil {
			f = msg.Fields().ByName(protoreflect.Name(part))
		}
		if f == nil {
			return false
		}
		path = append(path, string(f.Name()))
		if i == 0 && string(f.Name()) == r.body {
			return false
		}
		if i < len(parts)-1 {
			if f.Kind() != protoreflect.MessageKind || f.IsList() || f.IsMap() {
				return false
			}
			msg = f.Message()
		}
	}
	return !slices.Contains(r.bound, strings.Join(path, "."))
}
