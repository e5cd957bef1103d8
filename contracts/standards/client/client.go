// Package client is where StandardsService is found. No service calls
// standards yet (only the gateway does), so it holds the service's name
// and address and no methods; a first caller adds them here, as the other
// services' clients have.
package client

import standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

// Service is the gRPC service, for grpcclient.Dial: the generated
// descriptor's name, so it cannot drift from the proto.
var Service = standardsv1.StandardsService_ServiceDesc.ServiceName

// Port is where standards listens unless LISTEN_ADDR says otherwise;
// DefaultAddr, where its callers find it unless AddrEnv says otherwise.
const (
	Port        = "8084"
	DefaultAddr = "localhost:" + Port
	AddrEnv     = "STANDARDS_ADDR"
)
