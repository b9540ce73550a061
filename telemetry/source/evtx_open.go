package source

import (
	"io"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/evtx"
)

// openEVTXReader opens EVTX content held in ra with telemetry/evtx. The
// returned Closer stops its decoding workers.
func openEVTXReader(name string, ra io.ReaderAt, size int64) (telemetry.Reader, io.Closer,
	error) {
	rd, err := evtx.Open(name, ra, size)
	if err != nil {
		return nil, nil, err
	}
	return rd, rd, nil
}
