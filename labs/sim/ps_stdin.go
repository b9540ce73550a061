package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxStdin bounds what [Console]::In.ReadToEnd() keeps: a base64 upload of
// the harness's largest payload (64 MiB) with room to spare.
const maxStdin = 96 << 20

// psStdin is [Console]::In: the process's standard input, which WinRS feeds
// from the client's Send requests. ReadToEnd and ReadLine block until the
// client sends the data or closes the stream, as on Windows.
type psStdin struct {
	br *bufio.Reader
}

// newStdin wraps a command's input; nil is an empty stream.
func newStdin(r io.Reader) *psStdin {
	if r == nil {
		r = strings.NewReader("")
	}
	return &psStdin{br: bufio.NewReader(r)}
}

func (s *psStdin) call(ctx context.Context, method string) (any, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, &psThrow{msg: "The pipeline has been stopped."}
	}
	switch method {
	case "readtoend":
		b, err := io.ReadAll(io.LimitReader(s.br, maxStdin+1))
		if err != nil {
			return nil, &psThrow{msg: "Exception calling \"ReadToEnd\" with \"0\" argument(s): " +
				"\"The pipe has been ended.\""}
		}
		if len(b) > maxStdin {
			return nil, &psThrow{msg: "Exception calling \"ReadToEnd\" with \"0\" argument(s): " +
				"\"Insufficient memory to continue the execution of the program.\""}
		}
		return string(b), nil
	case "readline":
		line, err := s.br.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return nil, nil // $null at the end of input, as TextReader.ReadLine
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &psThrow{msg: "Exception calling \"ReadLine\" with \"0\" argument(s): " +
				"\"The pipe has been ended.\""}
		}
		return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
	}
	return nil, &psThrow{msg: fmt.Sprintf("Method invocation failed because "+
		"[System.IO.SyncTextReader] does not contain a method named '%s'.", method)}
}
