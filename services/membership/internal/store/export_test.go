package store

// Keys the tests remove, to stand for data stored before them.
var (
	EmailKey    = emailKey
	UnlinkedKey = unlinkedKey
)
