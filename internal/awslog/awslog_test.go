package awslog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		want  string
	}{
		{name: "debug shows the SDK's message", level: slog.LevelDebug, want: "aws sdk: falling back to IMDSv1"},
		{name: "info hides it", level: slog.LevelInfo, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			New(l).Logf(logging.Warn, "falling back to %s", "IMDSv1")
			got := buf.String()
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
	if _, ok := New(nil).(logging.Nop); !ok {
		t.Error("New(nil): got a logger that writes, want logging.Nop")
	}
}
