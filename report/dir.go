package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The files WriteDir writes, relative to its directory.
const (
	FileJSON      = "report.json"
	FileJUnit     = "junit.xml"
	FileHTML      = "report.html"
	FileTable     = "scorecard.txt"
	DirTelemetry  = "telemetry"
	telemetryExt  = ".ndjson"
	reportDirMode = 0o755
)

// WriteDir writes every format into dir: the telemetry of each scenario
// that collected any (telemetry/<id>.ndjson, recorded in
// Result.TelemetryFile), then the JSON, JUnit, HTML and table reports. It
// returns the paths written; every failure is reported together.
func WriteDir(dir string, r *Run) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(dir, DirTelemetry), reportDirMode); err != nil {
		return nil, fmt.Errorf("create report directory: %w", err)
	}
	var files []string
	var errs []error
	for _, res := range r.Results {
		if len(res.Events) == 0 {
			continue
		}
		rel := filepath.ToSlash(filepath.Join(DirTelemetry, res.ID+telemetryExt))
		err := writeFile(filepath.Join(dir, rel), func(w io.Writer) error {
			return WriteTelemetry(w, res)
		})
		if err == nil {
			res.TelemetryFile = rel
			files = append(files, filepath.Join(dir, rel))
		}
		errs = append(errs, err)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, *Run) error
	}{{FileJSON, WriteJSON}, {FileJUnit, WriteJUnit}, {FileHTML, WriteHTML},
		{FileTable, WriteTable}} {
		path := filepath.Join(dir, f.name)
		err := writeFile(path, func(w io.Writer) error { return f.write(w, r) })
		if err == nil {
			files = append(files, path)
		}
		errs = append(errs, err)
	}
	return files, errors.Join(errs...)
}

// writeFile writes path through a temporary file renamed into place, so a
// reader never sees half a report.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
