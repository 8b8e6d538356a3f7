// Package awslog routes the AWS SDK's own log output (for example "falling back to
// IMDSv1") into ssm-setup's logger at debug level, so it never lands unasked on a
// user's terminal or in a script's output.
package awslog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// New returns an SDK logger that writes to l at debug level; nil l discards.
func New(l *slog.Logger) logging.Logger {
	if l == nil {
		return logging.Nop{}
	}
	return sdkLogger{l}
}

type sdkLogger struct{ l *slog.Logger }

// Logf implements logging.Logger.
func (s sdkLogger) Logf(class logging.Classification, format string, v ...any) {
	s.l.Log(context.Background(), slog.LevelDebug, "aws sdk: "+fmt.Sprintf(format, v...), "class", string(class))
}
