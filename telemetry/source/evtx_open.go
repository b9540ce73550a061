package source

import (
	"errors"
	"fmt"
	"io"

	"github.com/svcharness/svcharness/telemetry"
)

// ErrEVTXUnsupported means this build cannot decode EVTX files.
var ErrEVTXUnsupported = errors.New("EVTX decoding is not available in this build")

// openEVTXReader opens EVTX content held in ra.
//
// TODO(evtx): dispatch to telemetry/evtx once that package is committed.
func openEVTXReader(name string, ra io.ReaderAt, size int64) (telemetry.Reader, io.Closer,
	error) {
	return nil, nil, fmt.Errorf("read %s: %w", name, ErrEVTXUnsupported)
}
