// Package participants holds typed HTTP clients for the participant protocol
// (docs/participant-protocol.md): carts, stocks and sales. Every call carries the saga's
// correlation id, and every failure is either a *Refusal (the participant said no: final)
// or a transient fault (5xx, timeout, connection error: worth retrying).
package participants
