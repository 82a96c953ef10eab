// Package httpapi holds the HTTP conventions every participant service shares:
// RFC 9457 problem documents, strict JSON decoding, request metrics, and health.
package httpapi
