package emulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// Channels are the event logs AN1185's telemetry lives in.
var Channels = []string{"Security", "System", "Microsoft-Windows-Sysmon/Operational"}

// Collection bounds.
const (
	collectPage     = 500     // events per wevtutil call
	maxCollected    = 200_000 // events per host and run
	wevtutilNoLog   = 15007   // ERROR_EVT_CHANNEL_NOT_FOUND
	clockFormatHint = "2006-01-02T15:04:05.0000000Z"
)

// HostClock reads a host's clock in UTC. Collecting "since the start" uses
// the host's own clock, so that skew between the harness and the lab does
// not lose events.
func HostClock(ctx context.Context, r Runner, host string) (time.Time, error) {
	res, err := run(ctx, r, host, "read clock", `[DateTime]::UtcNow.ToString('o')`)
	if err != nil {
		return time.Time{}, err
	}
	if res.DryRun {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(res.Stdout))
	if err != nil {
		return time.Time{}, fmt.Errorf("read clock on %s: %q is not like %s: %w", host,
			firstLine(res.Stdout), clockFormatHint, ErrCommandFailed)
	}
	return t.UTC(), nil
}

// Collection is what Collect read from one host.
type Collection struct {
	Host    string
	Events  []*telemetry.Event
	Skipped []error  // records that could not be decoded (*telemetry.RecordError)
	Missing []string // channels the host does not have: a sensor is absent
}

// Collect reads every event the host recorded in channels at or after
// since, oldest first, a page at a time with wevtutil (whose XPath pages by
// EventRecordID), and decodes them.
func Collect(ctx context.Context, r Runner, host string, since time.Time,
	channels []string) (*Collection, error) {
	c := &Collection{Host: host}
	for _, ch := range channels {
		if err := c.channel(ctx, r, ch, since); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c *Collection) channel(ctx context.Context, r Runner, ch string, since time.Time) error {
	var last uint64
	for {
		n, next, err := c.page(ctx, r, ch, since, last)
		if err != nil || n < collectPage {
			return err
		}
		if next <= last {
			return fmt.Errorf("collect %s on %s: record IDs do not advance past %d: %w",
				ch, c.Host, last, ErrProtocol)
		}
		if len(c.Events) >= maxCollected {
			return fmt.Errorf("collect %s on %s: more than %d events: %w",
				ch, c.Host, maxCollected, ErrCommandFailed)
		}
		last = next
	}
}

// page reads one page after record ID last and returns how many records it
// held and the highest record ID seen.
func (c *Collection) page(ctx context.Context, r Runner, ch string, since time.Time,
	last uint64) (int, uint64, error) {
	// Milliseconds, as every Windows version's event XPath accepts; the
	// fraction is floored here and the few records of that millisecond
	// that precede since are dropped in decode.
	q := fmt.Sprintf("*[System[TimeCreated[@SystemTime>='%s'] and EventRecordID>%d]]",
		since.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"), last)
	line := fmt.Sprintf(`wevtutil qe "%s" /q:"%s" /f:xml /c:%d`, ch, q, collectPage)
	res, err := r.Run(ctx, c.Host, scenarios.Cmd, line)
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("collect %s on %s: %w", ch, c.Host, err)
	case res.DryRun:
		return 0, 0, nil
	case res.ExitCode == wevtutilNoLog:
		c.Missing = append(c.Missing, ch)
		return 0, 0, nil
	case res.ExitCode != 0:
		return 0, 0, fmt.Errorf("collect %s on %s: wevtutil exit %d: %s: %w", ch, c.Host,
			res.ExitCode, firstLine(stderrText(res.Stderr)), ErrCommandFailed)
	case res.Truncated:
		return 0, 0, fmt.Errorf("collect %s on %s: page output truncated: %w",
			ch, c.Host, ErrCommandFailed)
	}
	return c.decode(ch, res.Stdout, since)
}

func (c *Collection) decode(ch, xml string, since time.Time) (int, uint64, error) {
	rd := telemetry.NewXMLReader(c.Host+":"+ch, strings.NewReader(xml))
	n, maxID := 0, uint64(0)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, maxID, nil
		}
		if err != nil {
			if !telemetry.IsRecordError(err) {
				return n, maxID, fmt.Errorf("decode %s from %s: %w: %w", ch, c.Host,
					ErrProtocol, err)
			}
			c.Skipped = append(c.Skipped, err)
			n++ // a skipped record still fills the page
			continue
		}
		n++
		maxID = max(maxID, ev.RecordID)
		if !ev.Time.Before(since) {
			c.Events = append(c.Events, ev)
		}
	}
}
