package report

import (
	"bufio"
	"io"

	"github.com/svcharness/svcharness/telemetry"
)

// WriteTelemetry writes a scenario's collected events as svcharness events
// NDJSON, the format "svcharness correlate" replays.
func WriteTelemetry(w io.Writer, res *Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	for _, ev := range res.Events {
		line = telemetry.AppendEventJSON(line[:0], ev)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
