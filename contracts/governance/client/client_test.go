package client_test

import (
	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
	"github.com/tjsia/chapterhouse/contracts/governance/client"
)

// The client is what a directory asks before it believes its own "no";
// held here rather than in client.go so the client itself needs no Redis.
var _ directory.Officers = (*client.Officers)(nil)
