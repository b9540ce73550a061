package telemetry

import (
	"errors"
	"fmt"
)

// Reader iterates the records of one input in order.
//
// Next returns the next decoded event, or io.EOF when the input is exhausted.
// A *RecordError means one record was skipped: the caller reports it and
// calls Next again. Any other error ends the input.
type Reader interface {
	Next() (*Event, error)
}

// RecordError reports one record that could not be decoded. The input goes
// on with the next record.
type RecordError struct {
	File string // input name; "archive.zip!member.json" inside archives
	Pos  string // where in the file: "line 12", "offset 0x1a00", "chunk 3 record 17"
	Err  error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.File, e.Pos, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// IsRecordError reports whether err is a skipped record rather than the end
// of the input.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}
