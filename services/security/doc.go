// Package security holds the black-box security tests of the participant
// services: bearer-token authentication in front of every route, and hostile
// request bodies, paths and headers that must be refused with a 4xx problem
// document, write nothing and leave the service healthy. It has no code of its
// own; see docs/security.md.
package security
