package servicetest

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// Reasons is what the tests of one test binary saw each method answer:
// the reason of every error (its ErrorInfo) and of every charter
// violation an error listed (its PreconditionFailure subjects), each with
// the status code it came with. Every service started with
// RecordReasons(r) adds to it, so it is made once, beside TestMain
// (RunCheckingReasons), and given to each.
type Reasons struct {
	mu   sync.Mutex
	seen map[string]map[string]map[codes.Code]bool
}

// NewReasons returns an empty record.
func NewReasons() *Reasons { return &Reasons{seen: map[string]map[string]map[codes.Code]bool{}} }

func (r *Reasons) record(method string, err error) {
	if err == nil {
		return
	}
	reasons := []string{}
	if info := apierr.Info(err); info != nil {
		reasons = append(reasons, info.GetReason())
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				reasons = append(reasons, v.GetSubject())
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[method] == nil {
		r.seen[method] = map[string]map[codes.Code]bool{}
	}
	for _, reason := range reasons {
		if r.seen[method][reason] == nil {
			r.seen[method][reason] = map[codes.Code]bool{}
		}
		r.seen[method][reason][st.Code()] = true
	}
}

// Seen reports whether method (a full method name) answered p: its reason,
// with p's status code when p names one.
func (r *Reasons) Seen(method string, p Promise) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Code == "" {
		return len(r.seen[method][p.Reason]) > 0
	}
	code, ok := codeOf(p.Code)
	return ok && r.seen[method][p.Reason][code]
}

// Promise is a reason a method's comment names, and the status code it
// names it with ("ALREADY_EXISTS, reason OFFICE_ALREADY_FILLED"), when it
// names one.
type Promise struct {
	Reason string
	// Code is the status code's name as the comment writes it, or "".
	Code string
}

func (p Promise) String() string {
	if p.Code == "" {
		return p.Reason
	}
	return p.Code + " with " + p.Reason
}

// codeOf reads a status code's name (ALREADY_EXISTS), as grpc-go's codes
// read it from JSON.
func codeOf(name string) (codes.Code, bool) {
	var c codes.Code
	err := c.UnmarshalJSON([]byte(`"` + name + `"`))
	return c, err == nil
}

// reasonWord is how an ErrorReason is written in a comment, and
// codedReason one named with its status code: "ALREADY_EXISTS, reason X",
// "FAILED_PRECONDITION with reason X".
var (
	reasonWord  = regexp.MustCompile(`\b[A-Z][A-Z0-9_]*[A-Z0-9]\b`)
	codedReason = regexp.MustCompile(`\b([A-Z][A-Z_]*[A-Z]),?\s+(?:with\s+)?reason\s+([A-Z][A-Z0-9_]*[A-Z0-9])\b`)
)

// Documented returns the reasons each method of service names in its
// comment, by method name. The comments are read from the OpenAPI
// document, whose operations carry them (summary and description). A word
// counts when it is an ErrorReason and not a value of one of the service's
// own enums written without its prefix: a meeting that is CANCELLED names
// a state, not the reason CANCELLED. A reason written with a status code
// ("ALREADY_EXISTS, reason X") promises that code too.
func Documented(service grpc.ServiceDesc) (map[string][]Promise, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
			Description string `json:"description"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		return nil, fmt.Errorf("servicetest: the OpenAPI document: %w", err)
	}
	states, err := enumWords(service.ServiceName)
	if err != nil {
		return nil, err
	}
	short := service.ServiceName[strings.LastIndex(service.ServiceName, ".")+1:] + "_"
	isReason := func(w string) bool {
		_, ok := apiv1.ErrorReason_value[w]
		return ok && w != apiv1.ErrorReason_ERROR_REASON_UNSPECIFIED.String() && !states[w]
	}
	out := map[string][]Promise{}
	for _, ops := range doc.Paths {
		for _, op := range ops {
			method, ok := strings.CutPrefix(op.OperationID, short)
			if !ok {
				continue
			}
			text := op.Summary + "\n" + op.Description
			coded := map[string]bool{}
			for _, m := range codedReason.FindAllStringSubmatch(text, -1) {
				if _, ok := codeOf(m[1]); ok && isReason(m[2]) {
					out[method] = append(out[method], Promise{Reason: m[2], Code: m[1]})
					coded[m[1]], coded[m[2]] = true, true
				}
			}
			for _, w := range reasonWord.FindAllString(text, -1) {
				if isReason(w) && !coded[w] && !slices.ContainsFunc(out[method], func(p Promise) bool { return p.Reason == w && p.Code == "" }) {
					out[method] = append(out[method], Promise{Reason: w})
				}
			}
		}
	}
	for _, promises := range out {
		sort.Slice(promises, func(i, j int) bool { return promises[i].String() < promises[j].String() })
	}
	return out, nil
}

// enumWords are the values of the enums of the service's file and the
// files it imports (ErrorReason aside), each without its enum's prefix
// (MEETING_STATE_CANCELLED: CANCELLED).
func enumWords(serviceName string) (map[string]bool, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(serviceName))
	if err != nil {
		return nil, fmt.Errorf("servicetest: service %s: %w", serviceName, err)
	}
	file := d.ParentFile()
	files := []protoreflect.FileDescriptor{file}
	for i := range file.Imports().Len() {
		files = append(files, file.Imports().Get(i).FileDescriptor)
	}
	words := map[string]bool{}
	errorReason := apiv1.ErrorReason(0).Descriptor().FullName()
	add := func(enums protoreflect.EnumDescriptors) {
		for i := range enums.Len() {
			e := enums.Get(i)
			if e.FullName() == errorReason {
				continue
			}
			prefix := upperSnake(string(e.Name())) + "_"
			for j := range e.Values().Len() {
				words[strings.TrimPrefix(string(e.Values().Get(j).Name()), prefix)] = true
			}
		}
	}
	var addMessages func(msgs protoreflect.MessageDescriptors)
	addMessages = func(msgs protoreflect.MessageDescriptors) {
		for i := range msgs.Len() {
			add(msgs.Get(i).Enums())
			addMessages(msgs.Get(i).Messages())
		}
	}
	for _, f := range files {
		add(f.Enums())
		addMessages(f.Messages())
	}
	return words, nil
}

// upperSnake writes a CamelCase name in UPPER_SNAKE_CASE.
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// Unreached returns, by method name, the reasons a method's comment names
// that the tests never saw it answer (with the code the comment gives).
func (r *Reasons) Unreached(service grpc.ServiceDesc) (map[string][]string, error) {
	documented, err := Documented(service)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for method, promises := range documented {
		for _, p := range promises {
			if !r.Seen("/"+service.ServiceName+"/"+method, p) {
				out[method] = append(out[method], p.String())
			}
		}
	}
	return out, nil
}

// RunCheckingReasons is TestMain's body for a service's tests: it runs
// them (m.Run) and then, when every test ran and passed, fails the binary
// unless each reason a method's comment names was answered by that method
// in some test through a client that recorded into r. A documented reason
// is one a client can meet, so a test meets it too, or the comment stops
// promising it.
func RunCheckingReasons(m *testing.M, r *Reasons, service grpc.ServiceDesc) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	for _, f := range []string{"test.run", "test.skip"} {
		if fl := flag.Lookup(f); fl != nil && fl.Value.String() != "" {
			fmt.Fprintf(os.Stderr, "servicetest: %s selects tests, so the documented reasons of %s were not checked\n", f, service.ServiceName)
			return code
		}
	}
	unreached, err := r.Unreached(service)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if len(unreached) == 0 {
		return code
	}
	methods := make([]string, 0, len(unreached))
	for m := range unreached {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	fmt.Fprintf(os.Stderr, "FAIL: reasons the comments of %s name that no test saw the method answer (test them, or drop them from the comment):\n", service.ServiceName)
	for _, m := range methods {
		fmt.Fprintf(os.Stderr, "  %s: %s\n", m, strings.Join(unreached[m], ", "))
	}
	return 1
}
