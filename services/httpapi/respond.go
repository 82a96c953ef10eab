package httpapi

import (
	"encoding/json"
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
