// Package hubserver is an embeddable Koji hub: the XML-RPC endpoint that
// the koji CLI, kojid and Koji's Python library talk to, answering as
// upstream Koji 1.35 does on the wire.
//
// This package is the protocol and embedding layer. It serves POST
// requests only (405 otherwise), answers an empty, unparsable or too long
// body with 400 and a body not read in time with 408, both text/plain,
// and sends every reply with a Koji-Version header. It routes
// application/octet-stream requests to Config.Upload, where the files
// layer plugs in. Methods are declared like Python signatures (Method,
// Arg) and bound to Go functions, so that arity and keyword mistakes fault
// with CPython's TypeError wording as upstream's ParameterError; the same
// declarations answer _listapi and system.methodHelp. multiCall and
// system.multicall run their entries under savepoints.
//
// One HTTP request is one transaction of Config.Store: a call that faults
// is rolled back, anything else is committed; handlers reach it with
// TxFrom. Config.Authenticate fills the caller's Session (SessionFrom),
// which labels every log line with the method, user and session.
//
//	hub, err := hubserver.New(hubserver.Config{ListenAddr: ":8080", Store: store})
//	err = hub.Register(hubserver.Method{
//		Name: "getBuild", PyName: "get_build",
//		Args: []hubserver.Arg{{Name: "buildInfo"}, {Name: "strict", Default: false}},
//		Func: func(ctx context.Context, buildInfo any, strict bool) (*Build, error) { … },
//	})
//	err = hub.Start(ctx)
//	defer hub.Shutdown(ctx)
//
// Package hubtest runs a hub on a free loopback port for tests.
package hubserver
