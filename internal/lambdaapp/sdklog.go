package lambdaapp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger writes what the AWS SDK logs (the SDK's default logger prints
// plain text to stderr, such as S3's "Response has no supported checksum")
// as lines of the function's own JSON log, at the SDK's classification:
// every line in the log group is then a JSON object the queries can read,
// and LOG_LEVEL filters these too.
type sdkLogger struct {
	log *slog.Logger
	ctx context.Context
}

// Logf implements logging.Logger.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	ctx := l.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	l.log.Log(ctx, level, "aws sdk", "sdkMessage", fmt.Sprintf(format, v...))
}

// WithContext implements logging.ContextLogger: the line gets the
// invocation's requestId.
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{log: l.log, ctx: ctx}
}
