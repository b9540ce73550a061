// Command evtxdump prints every record of EVTX files as JSON lines. It is a
// measuring aid for scripts/bench-evtx.sh when svcharness is not built.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/evtx"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	out := bufio.NewWriterSize(stdout, 1<<16)
	defer out.Flush()
	enc := json.NewEncoder(out)
	code := 0
	for _, name := range args {
		if err := dump(name, enc, stderr); err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
		}
	}
	return code
}

func dump(name string, enc *json.Encoder, stderr io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := evtx.Open(name, f, st.Size())
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if telemetry.IsRecordError(err) {
			fmt.Fprintln(stderr, err)
			continue
		}
		if err != nil {
			return err
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	for _, d := range r.Damage() {
		fmt.Fprintln(stderr, "damage:", d)
	}
	return nil
}
