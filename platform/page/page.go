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

// Of pages through items already in memory and sorted by key: up to size
// items whose key is after after. It serves the short lists a domain reads
// whole anyway (a branch's terms, its officers), so they page like the rest.
func Of[T any](items []T, key func(T) string, after string, size int) Page[T] {
	var pg Page[T]
	for _, it := range items {
		k := key(it)
		if after != "" && k <= after {
			continue
		}
		if len(pg.Items) == size {
			pg.Next = key(pg.Items[len(pg.Items)-1])
			return pg
		}
		pg.Items = append(pg.Items, it)
	}
	return pg
}
