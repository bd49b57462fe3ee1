package builder_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// A builder with the sleep handler and one of its own, which makes a
// subtask per word, waits for them all and uploads a report, run until
// SIGINT.
func Example() {
	client, err := koji.NewClient("https://koji.example.com/kojihub")
	if err != nil {
		fmt.Println(err)
		return
	}
	shout := builder.HandlerFunc([]string{"shout"}, 0.5, func(ctx context.Context, t *builder.Task) (any, error) {
		words, _ := t.Params[0].([]any)
		for i := range words {
			label := fmt.Sprint("word", i) // the same subtasks after a restart
			if _, err := t.Subtask(ctx, "sleep", []any{1}, &builder.SubtaskOptions{Label: label}); err != nil {
				return nil, err
			}
		}
		if _, err := t.Wait(ctx, builder.WaitOptions{All: true, FailAny: true}); err != nil {
			return nil, err
		}
		report := strings.ToUpper(fmt.Sprint(words...))
		return report, t.Upload(ctx, strings.NewReader(report), "report.txt")
	})
	d, err := builder.New(builder.Config{
		Client: client,
		Auth:   &auth.SSL{CertFile: "/etc/kojid/client.crt"},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, builder.Sleep{}, shout)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := d.Run(ctx); err != nil {
		fmt.Println(err)
	}
}
