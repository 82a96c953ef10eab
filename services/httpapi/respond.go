package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// ContentTypeJSON is the media type of every non-error body.
const ContentTypeJSON = "application/json"

// Encode marshals v for a response body. It is separate from WriteJSON so that
// idempotent handlers can store exactly the bytes they send, and replay them.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSON sends v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := Encode(v)
	if err != nil {
		return err
	}
	WriteRaw(w, status, ContentTypeJSON, b)
	return nil
}

// WriteRaw sends already-encoded bytes.
func WriteRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing useful to do
}

// Answer is a complete response decided inside a transaction and written after
// it commits. Idempotent calls store it to replay it byte for byte.
type Answer struct {
	Status int
	Body   []byte // JSON, or a problem document when Status >= 400; nil for 204
}

// ProblemAnswer turns a problem into an Answer.
func ProblemAnswer(p *Problem) Answer { return Answer{Status: p.Status, Body: p.Body()} }

// JSONAnswer encodes v into an Answer.
func JSONAnswer(status int, v any) (Answer, error) {
	b, err := Encode(v)
	if err != nil {
		return Answer{}, fmt.Errorf("encode answer: %w", err)
	}
	return Answer{Status: status, Body: b}, nil
}

// WriteAnswer sends a, as a problem document when it is an error.
func WriteAnswer(w http.ResponseWriter, a Answer) {
	switch {
	case a.Status == http.StatusNoContent || a.Body == nil:
		w.WriteHeader(a.Status)
	case a.Status >= 400:
		WriteRaw(w, a.Status, ContentTypeProblem, a.Body)
	default:
		WriteRaw(w, a.Status, ContentTypeJSON, a.Body)
	}
}
