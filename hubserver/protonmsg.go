package hubserver

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
)

// Defaults of ProtonmsgConfig's fields, upstream's protonmsg.conf values.
const (
	DefaultProtonConnectTimeout = 10 * time.Second
	DefaultProtonSendTimeout    = 60 * time.Second
	DefaultProtonMaxAge         = 24 * time.Hour
	DefaultProtonBatchSize      = 100
	DefaultProtonRetryInterval  = time.Minute
)

// ProtonmsgConfig configures the messages the hub announces its changes
// with, as upstream's protonmsg hub plugin does: each post callback
// (postTaskStateChange, postBuildStateChange, postTag, ...) queues a
// message with the plugin's address, properties and JSON body, and the
// messages of a call are sent only once its transaction committed. Sending
// happens in the background, in commit order, so a slow or unreachable
// broker never holds a call up; messages that cannot be sent are kept in
// the proton_queue table and sent again later. See package messages for
// how they map onto an AMQP 0.9.1 broker.
//
// Messages are sent when Broker or Publisher is set.
type ProtonmsgConfig struct {
	// Broker configures the connection the hub opens to the broker, on
	// the first message and again after a failed attempt. Its TopicPrefix
	// is protonmsg's topic_prefix.
	Broker *messages.Config
	// Publisher is a connected publisher the hub sends through instead;
	// its owner closes it, after Koji.Close.
	Publisher *messages.Publisher

	// ConnectTimeout bounds connecting to Broker (connect_timeout);
	// DefaultProtonConnectTimeout when zero.
	ConnectTimeout time.Duration
	// SendTimeout bounds the sending of one batch of messages, waiting
	// for the broker's confirms included (send_timeout); messages not
	// sent by then are queued. DefaultProtonSendTimeout when zero.
	SendTimeout time.Duration
	// TTL, when positive, is how long the broker keeps each message
	// ([message] ttl).
	TTL time.Duration
	// ExtraLimit, when not zero, drops a build's extra from a message
	// body when its JSON is longer than |ExtraLimit| characters
	// ([message] extra_limit).
	ExtraLimit int

	// DisableQueue drops messages that cannot be sent instead of keeping
	// them in proton_queue ([queue] enabled = false).
	DisableQueue bool
	// MaxAge is how long queued messages are kept before they are
	// dropped unsent ([queue] max_age); DefaultProtonMaxAge when zero.
	MaxAge time.Duration
	// BatchSize is how many queued messages are sent again at a time
	// ([queue] batch_size); DefaultProtonBatchSize when zero.
	BatchSize int
	// RetryInterval is how often queued messages are tried again while
	// no new message comes (upstream only tries again on later commits);
	// DefaultProtonRetryInterval when zero, never when negative.
	RetryInterval time.Duration
}

func (c ProtonmsgConfig) enabled() bool { return c.Broker != nil || c.Publisher != nil }

func (c ProtonmsgConfig) withDefaults() ProtonmsgConfig {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultProtonConnectTimeout
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultProtonSendTimeout
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultProtonMaxAge
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultProtonBatchSize
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = DefaultProtonRetryInterval
	}
	return c
}

// protonModule is the __module__ upstream's CallbackError names for a
// failing protonmsg callback.
const protonModule = "_koji_plugin__protonmsg"

// queueProtonmsg builds the message of callback name from kw, as the
// protonmsg prep_* callback does, and has it sent after the commit. It
// does nothing when no broker is configured or name has no message.
func (k *Koji) queueProtonmsg(ctx context.Context, name string, kw map[string]any) error {
	prep, ok := protonPreps[name]
	if !ok {
		return nil
	}
	s := k.protonSender()
	if s == nil {
		return nil
	}
	// The prep functions are @convert_datetime callbacks and get their own
	// copy, which they may change.
	kws := convertDatetime(kw).(map[string]any)
	m, err := prep(protonPrep{k: k, ctx: ctx, cbtype: name, kws: kws})
	if err == nil && m != nil {
		*m, err = messages.EncodeProtonKwargs(m.Topic, m.Properties, kws)
	}
	if err != nil {
		return fault(koji.ErrCallback, "Error running %s callback from %s:\n%s\n", name, protonModule, err)
	}
	if m != nil {
		AfterCommit(ctx, func() { s.enqueue(*m) })
	}
	return nil
}

// A protonPrep is the input of a prep function: the callback's name and
// its converted keyword arguments.
type protonPrep struct {
	k      *Koji
	ctx    context.Context
	cbtype string
	kws    map[string]any
}

// protonPreps are upstream's prep_* callbacks: each returns the address
// (topic) and properties of the message, or nil when the change is not
// announced; the body is the keyword arguments as the prep left them.
var protonPreps = map[string]func(p protonPrep) (*messages.Message, error){
	"postPackageListChange": func(p protonPrep) (*messages.Message, error) {
		action, err := p.str(p.kws, "action")
		if err != nil {
			return nil, err
		}
		return p.message("package."+action,
			"tag", p.path("tag", "name"), "package", p.path("package", "name"),
			"action", p.path("action"), "user", p.path("user", "name"),
		)
	},
	"postTaskStateChange": func(p protonPrep) (*messages.Message, error) {
		if attr, err := p.get(p.kws, "attribute"); err != nil || attr != "state" {
			return nil, err
		}
		n, err := p.str(p.kws, "new")
		if err != nil {
			return nil, err
		}
		return p.message("task."+strings.ToLower(n),
			"id", p.path("info", "id"), "parent", p.path("info", "parent"), "method", p.path("info", "method"),
			"attribute", p.path("attribute"), "old", p.path("old"), "new", p.path("new"),
		)
	},
	"postBuildStateChange": func(p protonPrep) (*messages.Message, error) {
		if attr, err := p.get(p.kws, "attribute"); err != nil || attr != "state" {
			return nil, err
		}
		var old any
		if v, err := p.get(p.kws, "old"); err != nil {
			return nil, err
		} else if v != nil {
			if old, err = buildStateName(v); err != nil {
				return nil, err
			}
		}
		v, err := p.get(p.kws, "new")
		if err != nil {
			return nil, err
		}
		n, err := buildStateName(v)
		if err != nil {
			return nil, err
		}
		if err := p.stripExtra("info"); err != nil {
			return nil, err
		}
		btypes := map[string]any{}
		if bt := p.k.ev.buildTypes; bt != nil {
			info, _ := p.kws["info"].(map[string]any)
			if btypes, err = bt(p.ctx, info); err != nil {
				return nil, err
			}
		}
		p.kws["btypes"] = btypes
		return p.message("build."+strings.ToLower(n),
			"name", p.path("info", "name"), "version", p.path("info", "version"),
			"release", p.path("info", "release"), "attribute", p.path("attribute"), "old", old, "new", n,
		)
	},
	"postImport": func(p protonPrep) (*messages.Message, error) {
		if err := p.stripExtra("build"); err != nil {
			return nil, err
		}
		typ, err := p.str(p.kws, "type")
		if err != nil {
			return nil, err
		}
		return p.message("import."+typ,
			"importType", typ, "name", p.path("build", "name"), "version", p.path("build", "version"),
			"release", p.path("build", "release"),
		)
	},
	"postRPMSign": func(p protonPrep) (*messages.Message, error) {
		key, err := p.get(p.kws, "sigkey")
		if err != nil {
			return nil, err
		}
		if key == nil || key == "" {
			return nil, nil
		}
		if err := p.stripExtra("build"); err != nil {
			return nil, err
		}
		return p.message("sign.rpm",
			"sigkey", key, "name", p.path("build", "name"), "version", p.path("build", "version"),
			"release", p.path("build", "release"), "rpm_name", p.path("rpm", "name"),
			"rpm_version", p.path("rpm", "version"), "rpm_release", p.path("rpm", "release"),
			"rpm_arch", p.path("rpm", "arch"),
		)
	},
	"postTag":   func(p protonPrep) (*messages.Message, error) { return p.tagMessage("build.tag") },
	"postUntag": func(p protonPrep) (*messages.Message, error) { return p.tagMessage("build.untag") },
	"postRepoInit": func(p protonPrep) (*messages.Message, error) {
		return p.message("repo.init",
			"tag", p.path("tag", "name"), "repo_id", p.path("repo_id"), "task_id", p.path("task_id"),
		)
	},
	"postRepoDone": func(p protonPrep) (*messages.Message, error) {
		return p.message("repo.done",
			"tag", p.path("repo", "tag_name"), "repo_id", p.path("repo", "id"),
			"task_id", p.path("repo", "task_id"), "expire", p.path("expire"),
		)
	},
	"postBuildPromote": func(p protonPrep) (*messages.Message, error) {
		if err := p.stripExtra("build"); err != nil {
			return nil, err
		}
		return p.message("build.promote",
			"build_id", p.path("build", "id"), "name", p.path("build", "name"),
			"version", p.path("build", "version"), "release", p.path("build", "release"),
			"draft_release", p.path("draft_release"), "target_release", p.path("target_release"),
			"user", p.path("user", "name"),
		)
	},
}

func (p protonPrep) tagMessage(address string) (*messages.Message, error) {
	if err := p.stripExtra("build"); err != nil {
		return nil, err
	}
	return p.message(address,
		"tag", p.path("tag", "name"), "name", p.path("build", "name"), "version", p.path("build", "version"),
		"release", p.path("build", "release"), "user", p.path("user", "name"),
	)
}

// A missingKey is Python's KeyError of a prep function reading a keyword
// argument (or member) the callback was not given.
type missingKey string

func (e missingKey) Error() string { return fmt.Sprintf("KeyError: '%s'", string(e)) }

// propPath is a property read lazily by message: keys into the keyword
// arguments.
type propPath []string

func (p protonPrep) path(keys ...string) propPath { return keys }

// message returns the message for address with the properties given as
// name, value pairs, whose propPath values are looked up in the keyword
// arguments in order (so a missing one is the KeyError Python raises
// first), and "type" set to the callback's name without "post"
// (cbtype[4:]).
func (p protonPrep) message(address string, props ...any) (*messages.Message, error) {
	out := make(map[string]any, len(props)/2+1)
	out["type"] = p.cbtype[len("post"):]
	for i := 0; i+1 < len(props); i += 2 {
		name, v := props[i].(string), props[i+1]
		if keys, ok := v.(propPath); ok {
			var err error
			v = any(p.kws)
			for _, key := range keys {
				m, ok := plainValue(v).(map[string]any)
				if !ok {
					return nil, fmt.Errorf("TypeError: %s is not a mapping", strings.Join(keys, "."))
				}
				if v, err = p.get(m, key); err != nil {
					return nil, err
				}
			}
		}
		out[name] = plainValue(v)
	}
	return &messages.Message{Topic: address, Properties: out}, nil
}

func (p protonPrep) get(m map[string]any, key string) (any, error) {
	v, ok := m[key]
	if !ok {
		return nil, missingKey(key)
	}
	return v, nil
}

func (p protonPrep) str(m map[string]any, key string) (string, error) {
	v, err := p.get(m, key)
	if err != nil {
		return "", err
	}
	s, ok := plainValue(v).(string)
	if !ok {
		return "", fmt.Errorf("TypeError: %s is %T, not a string", key, v)
	}
	return s, nil
}

// stripExtra is upstream's _strip_extra: with ExtraLimit set, the build in
// kws[key] loses its extra when the extra's JSON is longer than the limit
// (the build is copied, so other callbacks keep theirs).
func (p protonPrep) stripExtra(key string) error {
	v, err := p.get(p.kws, key)
	if err != nil {
		return err
	}
	limit := p.k.cfg.Protonmsg.ExtraLimit
	if limit == 0 {
		return nil
	}
	limit = max(limit, -limit)
	build, ok := plainValue(v).(map[string]any)
	if !ok {
		return fmt.Errorf("TypeError: %s is not a mapping", key)
	}
	extra, ok := build["extra"]
	if !ok {
		extra = map[string]any{}
	}
	if len(pyJSON(extra)) > limit {
		c := make(map[string]any, len(build))
		for k, v := range build {
			if k != "extra" {
				c[k] = v
			}
		}
		p.kws[key] = c
	}
	return nil
}

// buildStateName is koji.BUILD_STATES[state].
func buildStateName(v any) (string, error) {
	switch n := plainValue(v).(type) {
	case int64:
		if n < 0 || n > int64(koji.BuildCanceled) {
			return "", fmt.Errorf("KeyError: %d", n)
		}
		return koji.BuildState(n).String(), nil
	}
	return "", fmt.Errorf("KeyError: %v", v)
}

// plainValue returns v with pointers followed and numbers widened (int64,
// float64), the forms AMQP headers and the prep functions work with; maps
// of strings and slices are converted member by member.
func plainValue(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return v
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return plainValue(rv.Elem().Interface())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	}
	return v
}

// errNotJSON reports a value pyJSON cannot write.
var errNotJSON = errors.New("not JSON serializable")

// pyJSON writes v as Python's json.dumps does with its defaults (", " and
// ": " separators, non-ASCII escaped), which is what _strip_extra measures.
// A value it cannot write counts as protonmsg's json_serialize fallback.
func pyJSON(v any) string {
	var b strings.Builder
	if err := writePyJSON(&b, plainValue(v)); err != nil {
		return `{"error": "Can't serialize", "type": "unknown"}`
	}
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		fmt.Fprint(b, x)
	case float64:
		// float.__repr__: positional for exponents -4 to 15, with ".0"
		// when integral.
		sci := strconv.FormatFloat(x, 'e', -1, 64)
		exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
		if exp < -4 || exp >= 16 {
			b.WriteString(sci)
			break
		}
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		b.WriteString(s)
	case string:
		b.WriteByte('"')
		for _, r := range x {
			switch {
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\b':
				b.WriteString(`\b`)
			case r == '\f':
				b.WriteString(`\f`)
			case r < 0x20 || r > 0x7f && r <= 0xffff:
				fmt.Fprintf(b, `\u%04x`, r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writePyJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		i := 0
		for k, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			i++
			if err := writePyJSON(b, k); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := writePyJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return errNotJSON
	}
	return nil
}
