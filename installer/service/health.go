package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// HealthOptions tunes WaitHealthy. Zero fields take the defaults.
type HealthOptions struct {
	// Stable is how long the service must stay active with one main pid (default 3s).
	// The agent's unit restarts it after a crash (Restart=always), so "active" alone
	// says nothing about an agent that dies a second after it starts.
	Stable time.Duration
	// Interval is the polling interval (default 250ms).
	Interval time.Duration
	// Timeout bounds the whole wait (default 30s).
	Timeout time.Duration
	// Logger receives state changes at debug level; nil discards them.
	Logger *slog.Logger
}

// Defaults for HealthOptions.
const (
	DefaultStable   = 3 * time.Second
	DefaultInterval = 250 * time.Millisecond
	DefaultTimeout  = 30 * time.Second
)

// WaitHealthy polls m until the service is active and the same main pid has been seen
// for o.Stable. A pid change means the service restarted and starts the clock again. A
// Failed state ends the wait (after a grace of up to 1 s, see below); so does o.Timeout,
// reporting the last state and the number of restarts seen. Both are fail.Unhealthy errors. A cancelled ctx ends the
// wait with ctx's error.
func WaitHealthy(ctx context.Context, m Manager, o HealthOptions) error {
	if o.Stable <= 0 {
		o.Stable = DefaultStable
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	// A start is asked without waiting for it (systemctl --no-block), so the first polls
	// can still show the failed state of an earlier run: Failed counts after a grace.
	start := time.Now()
	grace := min(time.Second, o.Timeout/4)

	var (
		last        = State{Active: Unknown}
		lastErr     error
		lastPID     int
		restarts    int
		stableSince time.Time
	)
	for {
		s, err := m.State(wctx)
		if ctx.Err() != nil {
			return fmt.Errorf("wait for service %s: %w", m.Unit(), ctx.Err())
		}
		if err != nil && wctx.Err() == nil {
			return err
		}
		if err == nil {
			if s != last {
				log.Debug("service state", "unit", m.Unit(), "active", s.Active, "pid", s.MainPID)
			}
			last, lastErr = s, nil
			if s.MainPID > 0 {
				if lastPID > 0 && s.MainPID != lastPID {
					restarts++
				}
				if s.MainPID != lastPID {
					stableSince = time.Time{}
				}
				lastPID = s.MainPID
			}
			switch s.Active {
			case Failed:
				if time.Since(start) < grace {
					break
				}
				return unhealthy(m, fmt.Errorf("service %s failed%s", m.Unit(), restartNote(restarts)))
			case Active:
				now := time.Now()
				if stableSince.IsZero() {
					stableSince = now
				} else if now.Sub(stableSince) >= o.Stable {
					return nil
				}
			default:
				stableSince = time.Time{}
			}
		} else {
			lastErr = err
		}
		t := time.NewTimer(o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for service %s: %w", m.Unit(), ctx.Err())
		case <-wctx.Done():
			t.Stop()
			return timedOut(m, o, last, lastErr, restarts)
		case <-t.C:
		}
	}
}

func timedOut(m Manager, o HealthOptions, last State, lastErr error, restarts int) error {
	err := fmt.Errorf("service %s is not healthy after %s: state %s, main pid %d%s",
		m.Unit(), o.Timeout, last.Active, last.MainPID, restartNote(restarts))
	if last.Active == Active {
		err = fmt.Errorf("service %s did not stay up for %s within %s: state %s, main pid %d%s",
			m.Unit(), o.Stable, o.Timeout, last.Active, last.MainPID, restartNote(restarts))
	}
	if lastErr != nil {
		err = fmt.Errorf("%w (last query: %w)", err, lastErr)
	}
	return unhealthy(m, err)
}

func restartNote(restarts int) string {
	switch restarts {
	case 0:
		return ""
	case 1:
		return "; it restarted once"
	}
	return fmt.Sprintf("; it restarted %d times", restarts)
}

func unhealthy(m Manager, err error) error {
	hint := "see " + LogFile
	if m.Name() == Systemd {
		hint = "see 'journalctl -u " + m.Unit() + "' and " + LogFile
	}
	return fail.WithHint(fail.Wrap(fail.Unhealthy, err), hint)
}

// The agent's log files, inside the root.
const (
	LogFile   = "/var/log/amazon/ssm/amazon-ssm-agent.log"
	ErrorsLog = "/var/log/amazon/ssm/errors.log"
)

// tailBytes bounds how much of a log file LastLogLines reads: logs grow to megabytes.
const tailBytes = 64 * 1024

// LastLogLines returns the last n lines of the agent's log and, when it exists, of its
// errors.log, each under a "==> FILE <==" header like tail(1) prints. Files that do
// not exist or cannot be read are left out; with neither it returns "".
func LastLogLines(root sysroot.Root, n int) string {
	if n <= 0 {
		return ""
	}
	var parts []string
	for _, f := range []string{LogFile, ErrorsLog} {
		lines, err := tailFile(root.Path(f), n)
		if err != nil || len(lines) == 0 {
			continue
		}
		parts = append(parts, "==> "+f+" <==\n"+strings.Join(lines, "\n"))
	}
	return strings.Join(parts, "\n")
}

// tailFile returns up to the last n lines within the last tailBytes of path.
func tailFile(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	offset := max(info.Size()-tailBytes, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, offset, info.Size()-offset))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	text := strings.TrimRight(string(b), "\n")
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	if offset > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line was cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
