// Package oracle holds the wire-parity tests of the AWS protocols: each
// builds one operation with one input through arazzo (a workflow of the
// seed's family, its OpenAPI description, the engine, the protocol and the
// SigV4 middleware) and through the official AWS SDK for Go v2 client of
// that service, captures both requests on loopback and compares what AWS
// reads: method, path, query, X-Amz-Target, Content-Type,
// x-amz-content-sha256, the signed-header list, the credential scope and
// the body as a JSON, XML or form value.
//
// The package is tests only: the SDK service clients it imports are test
// dependencies and never reach the arazzo binary.
package oracle
