// Package page is the one page type of every List: a domain builds it, a
// store fills it, and neither needs the other's packages for it.
package page

// Page is one page of items and the key to continue after ("" on the last
// page). The key is the store's (an index member); callers wrap it in an
// opaque page token (platform/pagetoken) before a client sees it.
type Page[T any] struct {
	Items []T
	Next  string
}
