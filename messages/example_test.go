package messages_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
)

func ExampleParseProton() {
	// A message as protonmsg sends it when a build completes, with its
	// build info trimmed.
	props := map[string]any{
		"type": "BuildStateChange", "name": "bash", "version": "5.2.37", "release": "1.fc43",
		"attribute": "state", "old": "BUILDING", "new": "COMPLETE",
	}
	body := []byte(`{"attribute": "state", "old": 0, "new": 1, "btypes": {"rpm": null},
		"info": {"build_id": 2211083, "id": 2211083, "name": "bash", "version": "5.2.37",
		"release": "1.fc43", "nvr": "bash-5.2.37-1.fc43", "owner_name": "kojiadmin", "state": 1,
		"task_id": 101962689, "start_time": "2026-11-22 01:40:46.922628+00:00",
		"completion_time": "2026-11-22 02:05:12+00:00"}}`)

	ev, err := messages.ParseProton("topic://koji.build.complete", props, body)
	if err != nil {
		log.Fatal(err)
	}
	switch e := ev.(type) {
	case *messages.BuildStateChange:
		took, _ := e.Build.Duration(time.Now())
		fmt.Printf("%s: %s %s -> %s by %s in %v\n", e.Topic(), e.Build.NVR, *e.Old, e.New, e.Build.OwnerName, took)
	case *messages.Unknown:
		fmt.Println("not for us:", e.Topic())
	}
	// Output:
	// build.complete: bash-5.2.37-1.fc43 BUILDING -> COMPLETE by kojiadmin in 24m25.077372s
}

func ExampleParseFedora() {
	// A message from Fedora's bus: a build tagged into a side tag.
	body := []byte(`{"tag": "epel9-build-side-68659", "tag_id": 68659, "name": "perl-GooCanvas2",
		"version": "0.06", "release": "17.el9", "build_id": 2209268, "user": "ppisar",
		"owner": "ppisar", "instance": "primary"}`)
	headers := map[string]any{"fedora_messaging_schema": "koji_fedoramessaging.tag.TagV1"}

	ev, err := messages.ParseFedora("org.fedoraproject.prod.buildsys.tag", headers, body)
	if err != nil {
		log.Fatal(err)
	}
	tag := ev.(*messages.Tag)
	fmt.Println(tag.Kind(), tag.Build.NVR, "into", tag.Tag.Name, "by", tag.User.Name)
	// Output:
	// Tag perl-GooCanvas2-0.06-17.el9 into epel9-build-side-68659 by ppisar
}

func ExampleEncodeProton() {
	ev := &messages.Tag{
		Tag:   &koji.Tag{ID: 12, Name: "f43-updates-candidate"},
		Build: &koji.Build{ID: 2211083, Name: "bash", Version: "5.2.37", Release: "1.fc43"},
		User:  &koji.User{ID: 1, Name: "bodhi"},
	}
	m, err := messages.EncodeProton(ev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("topic://koji." + m.Topic)
	fmt.Println(m.Properties)
	// Output:
	// topic://koji.build.tag
	// map[name:bash release:1.fc43 tag:f43-updates-candidate type:Tag user:bodhi version:5.2.37]
}

// A hub announces events once their transaction committed.
func ExamplePublisher_Publish() {
	ctx := context.Background()
	pub, err := messages.NewPublisher(ctx, messages.Config{
		URL:         "amqp://koji:secret@broker.example.org:5672/",
		TopicPrefix: "koji", // routing keys koji.task.open, koji.build.complete, ...
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close()

	// protonmsg gives up on a broker after 60 seconds.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	old := koji.TaskFree
	err = pub.Publish(ctx, &messages.TaskStateChange{
		Task:      &koji.Task{ID: 110011364, Method: "build", State: koji.TaskOpen},
		Attribute: "state", Old: &old, New: koji.TaskOpen,
	})
	if err != nil {
		log.Print(err)
	}
}

// A service that follows completed builds, relayed from Fedora's bus to
// a broker of its own, until it is interrupted.
func ExampleConsume() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	err := messages.Consume(ctx, messages.Config{
		URL:      "amqps://watcher:secret@broker.example.org/",
		Queue:    "build-watcher",
		Format:   messages.Fedora,
		Bindings: []string{"org.fedoraproject.prod.buildsys.build.state.change"},
		Logger:   slog.Default(),
	}, func(ctx context.Context, ev messages.Event) error {
		e, ok := ev.(*messages.BuildStateChange)
		if !ok || e.New != koji.BuildComplete {
			return nil // acknowledged and ignored
		}
		// An error here gets the message delivered again later.
		return notify(ctx, e.Build.NVR)
	})
	if err != nil {
		log.Fatal(err)
	}
}

func notify(context.Context, string) error { return nil }
