package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ini/ini"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/rebuild"
)

// settings are what a configuration file says (see the package doc for
// its sections and options).
type settings struct {
	hub        hubSettings
	collection rebuild.Collection
	track      []string
	storeDSN   string
	listen     string
	// broker is nil without a [broker] section.
	broker     *brokerSettings
	service    rebuild.Config
	priorities rebuild.PriorityConfig
}

// hubSettings are the [hub] section: a koji.conf profile, the options
// that override it, and where SRPMs are cached.
type hubSettings struct {
	profile, configFile string
	overrides           map[string]string
	cacheDir            string
}

// brokerSettings are the [broker] section.
type brokerSettings struct {
	url, exchange string
	// hubPrefix is the topic prefix of the hub's messages (protonmsg's
	// topic_prefix), queue the durable queue the watcher reads them from.
	hubPrefix, queue string
	// topicPrefix starts the topics of the Koschei messages published.
	topicPrefix string
}

// profileOptions are the koji.conf options [hub] may set over the
// profile's.
var profileOptions = map[string]bool{
	"server": true, "topurl": true, "weburl": true, "serverca": true, "cert": true,
	"authtype": true, "principal": true, "keytab": true,
}

// loadSettings reads the configuration file at path.
func loadSettings(path string) (*settings, error) {
	f, err := ini.LoadSources(ini.LoadOptions{Insensitive: true}, path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	s := &settings{
		hub:        hubSettings{overrides: map[string]string{}},
		storeDSN:   "koschei.db",
		listen:     "127.0.0.1:8080",
		priorities: rebuild.DefaultPriorityConfig(),
	}
	for _, sec := range f.Sections() {
		name := sec.Name()
		apply, ok := sectionReaders[name]
		switch {
		case strings.EqualFold(name, ini.DefaultSection) && len(sec.Keys()) == 0:
			continue
		case !ok:
			return nil, fmt.Errorf("config: unknown section [%s]", name)
		}
		if name == "broker" {
			s.broker = &brokerSettings{hubPrefix: "koji", queue: "koschei.watcher", topicPrefix: "org.fedoraproject.prod"}
		}
		for _, k := range sec.Keys() {
			if err := apply(s, k.Name(), strings.TrimSpace(k.Value())); err != nil {
				return nil, fmt.Errorf("config: [%s] %s = %q: %w", name, k.Name(), k.Value(), err)
			}
		}
	}
	c := &s.collection
	if c.Name == "" || c.Target == "" {
		return nil, errors.New("config: [collection] needs a name and a target")
	}
	if s.hub.profile == "" && s.hub.overrides["server"] == "" {
		return nil, errors.New("config: [hub] needs a profile or a server")
	}
	return s, nil
}

var errUnknown = errors.New("unknown option")

// sectionReaders set one option of their section.
var sectionReaders = map[string]func(s *settings, key, v string) error{
	"hub": func(s *settings, key, v string) error {
		switch {
		case key == "profile":
			s.hub.profile = v
		case key == "config":
			s.hub.configFile = v
		case key == "cache_dir":
			s.hub.cacheDir = v
		case profileOptions[key]:
			s.hub.overrides[key] = v
		default:
			return errUnknown
		}
		return nil
	},
	"collection": func(s *settings, key, v string) error {
		c := &s.collection
		var err error
		switch key {
		case "name":
			c.Name = v
		case "display_name":
			c.DisplayName = v
		case "koji_instance":
			c.KojiInstance = v
		case "target":
			c.Target = v
		case "build_tag":
			c.BuildTag = v
		case "dest_tag":
			c.DestTag = v
		case "priority_coefficient":
			c.PriorityCoefficient, err = positive(v)
		case "build_group":
			c.BuildGroup = v
		case "build_group_packages":
			c.BuildGroupPackages = strings.Fields(v)
		case "channel":
			c.Channel = v
		case "poll_untracked":
			c.PollUntracked, err = parseBool(v)
		case "track":
			s.track = strings.Fields(v)
		default:
			return errUnknown
		}
		return err
	},
	"store": func(s *settings, key, v string) error {
		if key != "dsn" {
			return errUnknown
		}
		s.storeDSN = v
		return nil
	},
	"http": func(s *settings, key, v string) error {
		if key != "listen" {
			return errUnknown
		}
		s.listen = v
		return nil
	},
	"broker": func(s *settings, key, v string) error {
		b := s.broker
		switch key {
		case "url":
			b.url = v
		case "exchange":
			b.exchange = v
		case "hub_topic_prefix":
			b.hubPrefix = v
		case "queue":
			b.queue = v
		case "topic_prefix":
			b.topicPrefix = v
		default:
			return errUnknown
		}
		return nil
	},
	"service": func(s *settings, key, v string) error {
		c := &s.service
		var err error
		switch key {
		case "max_builds":
			c.MaxBuilds, err = positiveInt(v)
		case "load_threshold":
			c.LoadThreshold, err = positive(v)
		case "submit_burst":
			c.SubmitBurst, err = strconv.Atoi(v)
		case "submit_interval":
			c.SubmitInterval, err = seconds(v)
		case "build_arches":
			c.BuildArches = strings.Fields(v)
		case "task_priority":
			c.TaskPriority, err = strconv.Atoi(v)
		case "task_timeout":
			c.TaskTimeout, err = seconds(v)
		case "repo_arch":
			c.RepoArch = v
		case "schedule_interval":
			c.ScheduleInterval, err = seconds(v)
		case "poll_interval":
			c.PollInterval, err = seconds(v)
		case "resolve_interval":
			c.ResolveInterval, err = seconds(v)
		default:
			return errUnknown
		}
		return err
	},
	"priorities": func(s *settings, key, v string) error {
		p := &s.priorities
		var err error
		switch key {
		case "build_threshold":
			p.BuildThreshold, err = positive(v)
		case "package_update":
			p.PackageUpdate, err = positive(v)
		case "failed_build_priority":
			p.FailedBuild, err = positive(v)
		case "newly_added":
			p.NewlyAdded, err = positive(v)
		case "t0":
			p.T0, err = hours(v)
		case "t1":
			p.T1, err = hours(v)
		default:
			return errUnknown
		}
		return err
	},
}

func positive(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err == nil && !(f > 0) {
		err = errors.New("not positive")
	}
	return f, err
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n <= 0 {
		err = errors.New("not positive")
	}
	return n, err
}

func seconds(v string) (time.Duration, error) {
	f, err := positive(v)
	return time.Duration(f * float64(time.Second)), err
}

func hours(v string) (time.Duration, error) {
	f, err := positive(v)
	return time.Duration(f * float64(time.Hour)), err
}

// parseBool reads a boolean as Python's configparser does.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// loadProfile reads the koji.conf profile [hub] names, with its overrides.
func (h hubSettings) loadProfile() (*koji.Profile, error) {
	var p *koji.Profile
	var err error
	switch {
	case h.profile != "" && h.configFile != "":
		p, err = koji.LoadProfileFile(h.configFile, h.profile)
	case h.profile != "":
		p, err = koji.LoadProfile(h.profile)
	default:
		p = koji.DefaultProfile()
		p.Name = "koschei"
	}
	if err != nil {
		return nil, err
	}
	for k, v := range h.overrides {
		switch k {
		case "server":
			p.Server = v
		case "topurl":
			p.TopURL = v
		case "weburl":
			p.WebURL = v
		case "serverca":
			p.ServerCA = v
		case "cert":
			p.Cert = v
		case "authtype":
			p.AuthType = v
		case "principal":
			p.Principal = v
		case "keytab":
			p.Keytab = v
		}
	}
	return p, nil
}

// messages is the broker configuration of the watcher (consuming the
// hub's task and tag messages) and of the publisher (Koschei's
// messages).
func (b *brokerSettings) messages() (watch, publish messages.Config) {
	base := messages.Config{URL: b.url, Exchange: b.exchange}
	watch, publish = base, base
	watch.TopicPrefix, watch.Queue = b.hubPrefix, b.queue
	watch.Bindings = []string{b.hubPrefix + ".task.#", b.hubPrefix + ".build.tag"}
	publish.TopicPrefix = b.topicPrefix
	return watch, publish
}
