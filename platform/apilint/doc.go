// Package apilint holds the tests that hold Chapterhouse's protos to the API
// rules the services and clients rely on, checked by machine rather than by
// review: the Google AIP rules Google's api-linter would check (resource
// annotations, references, field behaviour, standard method shapes, etags),
// written as a Go test over the compiled descriptors because api-linter is
// not available here; and the buf.validate field rules, case by case. The
// package has no code of its own.
package apilint
