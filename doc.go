// Package visengine is the Go SDK for Openapi's Visengine 2.0 API, through which
// a Go backend requests Italian official documents and filings: the catalogue,
// each document's fields, rule and price, the paid request (richiesta), its
// progress and the produced zip.
//
// The package is built around three promises: a paid call is made at most once
// per logical submission, nothing sensitive (token, field values, document
// bytes, callback secrets) leaves through logs or errors, and bad input from
// the server or the user gives a typed error, never a panic.
package visengine
