// Package archtest holds tests over the shape of the code rather than its
// behaviour: which packages may depend on which. It has no code of its own.
package archtest
