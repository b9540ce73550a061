package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the run as one indented JSON document (see Schema).
// Durations are integers in nanoseconds, as their _ns keys say.
func WriteJSON(w io.Writer, r *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
