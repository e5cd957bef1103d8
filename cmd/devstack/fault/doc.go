// Package fault holds the system's fault tests (issue 11): the services and
// the gateway run as separate processes on real redis-servers, and the
// tests kill Redis and each service with SIGKILL, stop them with SIGTERM
// and inject UNAVAILABLE between them while clients write through the
// gateway, then count what was lost, applied twice, left undelivered or
// refused. Everything is loopback, bounded in time and stops by itself;
// each test logs its figures in a line that can be quoted.
package fault
