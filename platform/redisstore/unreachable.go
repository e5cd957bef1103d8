package redisstore

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// Unreachable reports whether err means Redis could not be asked or did
// not answer: a connection refused, reset or timed out, a closed client, an
// exhausted pool, or a server that is loading, read-only or without a
// master. Whether a write sent before such an error was applied cannot be
// told from it (go-redis may have retried after sending it).
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &op), errors.As(err, &ne) && ne.Timeout(),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		for _, state := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "TRYAGAIN"} {
			if strings.HasPrefix(reply.Error(), state) {
				return true
			}
		}
	}
	return false
}
