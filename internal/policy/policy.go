// Package policy is a port of upstream Koji's koji/policy.py: the rule
// sets of hub.conf's [policy] section (SimpleRuleSet) and the generic
// tests every policy may use (true, false, all, none, has, bool, match,
// target, compare). The hub adds its own tests (has_perm, tag, package...)
// as Factories.
//
// A rule set is lines of the form
//
//	test [args] [&& test [args] ...] :: action
//	test [args] [&& test [args] ...] !! action
//
// where "::" takes the action when every test passes and "!!" when one
// fails. An action of "{" opens a block of rules tried when the line
// matches, closed by a line holding only "}"; when no rule of the block
// matches, the rules after the block are tried. Anything after a "#" is a
// comment. Apply answers the action of the first matching rule.
package policy

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// A Test is one test of a rule, made by a Factory from its text (the
// test's name and arguments, as written between "&&"s).
type Test interface {
	// Run reports whether data passes the test. Tests may add fields to
	// data, as upstream's do (such as "_package").
	Run(ctx context.Context, data map[string]any) (bool, error)
	// String is the test's text as written, for LastRule.
	String() string
}

// A Factory makes a Test from its text, failing when the arguments are
// not valid for the test.
type Factory func(text string) (Test, error)

// Tests are the Factories a rule set may use, by test name.
type Tests map[string]Factory

// An Error is an error of upstream's Python code: Class is
// "GenericError" for koji.GenericError, or the Python exception class
// (such as "TypeError") that upstream would raise.
type Error struct {
	Class   string
	Message string
}

func (e *Error) Error() string { return e.Class + ": " + e.Message }

func genericError(format string, args ...any) error {
	return &Error{Class: "GenericError", Message: fmt.Sprintf(format, args...)}
}

// A SyntaxError is a rule set that does not parse: the line (counted
// from 1) and what is wrong with it.
type SyntaxError struct {
	Line int
	Text string // the line, as written
	Err  error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("policy line %d (%q): %v", e.Line, e.Text, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// A rule is one line of a rule set: its tests, whether "!!" negates
// them, and its action, or the rules of its block when it opens one.
type rule struct {
	tests  []Test
	negate bool
	action string
	block  []*rule // non-nil for a block ("{")
}

// A RuleSet is a parsed policy, upstream's SimpleRuleSet. It is safe for
// concurrent use: Apply keeps no state in it.
type RuleSet struct {
	rules []*rule
}

// Parse parses the text of a policy (upstream's
// SimpleRuleSet(text.splitlines(), tests)).
func Parse(text string, tests Tests) (*RuleSet, error) {
	rs := &RuleSet{}
	cursor := &rs.rules
	var stack []*[]*rule
	// The error of an unclosed block names the last line.
	for i, line := range splitLines(text) {
		r, closing, err := parseLine(line, tests)
		if err != nil {
			return nil, &SyntaxError{Line: i + 1, Text: line, Err: err}
		}
		switch {
		case closing:
			if len(stack) == 0 {
				return nil, &SyntaxError{Line: i + 1, Text: line, Err: genericError("nesting error in rule set")}
			}
			cursor, stack = stack[len(stack)-1], stack[:len(stack)-1]
		case r == nil:
			// blank or comment
		case r.action == "{":
			r.block = []*rule{}
			*cursor = append(*cursor, r)
			stack = append(stack, cursor)
			cursor = &r.block
		default:
			*cursor = append(*cursor, r)
		}
	}
	if len(stack) > 0 {
		lines := splitLines(text)
		return nil, &SyntaxError{Line: len(lines), Text: lines[len(lines)-1], Err: genericError("nesting error in rule set")}
	}
	return rs, nil
}

// parseLine is SimpleRuleSet.parse_line: nil for a blank line or a
// comment, closing for "}".
func parseLine(line string, tests Tests) (r *rule, closing bool, err error) {
	line, _, _ = strings.Cut(line, "#")
	line = strings.TrimFunc(line, isSpace)
	if line == "" {
		return nil, false, nil
	}
	if line == "}" {
		return nil, true, nil
	}
	negate := false
	pos := strings.LastIndex(line, "::")
	if pos == -1 {
		if pos = strings.LastIndex(line, "!!"); pos == -1 {
			return nil, false, &Error{Class: "Exception", Message: "bad policy line: " + line}
		}
		negate = true
	}
	r = &rule{negate: negate, action: strings.TrimFunc(line[pos+2:], isSpace)}
	for _, text := range strings.Split(line[:pos], "&&") {
		t, err := testHandler(text, tests)
		if err != nil {
			return nil, false, err
		}
		r.tests = append(r.tests, t)
	}
	return r, false, nil
}

// testHandler is SimpleRuleSet.get_test_handler.
func testHandler(text string, tests Tests) (Test, error) {
	fields := Fields(text)
	if len(fields) == 0 {
		return nil, &Error{Class: "IndexError", Message: "list index out of range"}
	}
	f, ok := tests[fields[0]]
	if !ok {
		return nil, genericError("missing test handler: %s", fields[0])
	}
	return f(text)
}

// A Result is what Apply found: the action (the text after "::" or "!!"
// of the matching rule), whether a rule matched, and the rule's lines
// as upstream's last_rule() reports them.
type Result struct {
	Action   string
	Matched  bool
	LastRule string
}

// Apply runs the rules against data and answers the first matching
// rule's action (SimpleRuleSet.apply and last_rule).
func (rs *RuleSet) Apply(ctx context.Context, data map[string]any) (Result, error) {
	var last []*rule
	action, ok, err := apply(ctx, rs.rules, data, true, &last)
	if err != nil {
		return Result{}, err
	}
	parts := make([]string, 0, len(last))
	for _, r := range last {
		texts := make([]string, len(r.tests))
		for i, t := range r.tests {
			texts[i] = t.String()
		}
		line := strings.Join(texts, "&&")
		if r.negate {
			line += "!! "
		} else {
			line += ":: "
		}
		parts = append(parts, line)
	}
	lastRule := strings.Join(parts, "... ")
	if ok {
		lastRule += action
	} else {
		lastRule += "(no match)"
	}
	return Result{Action: action, Matched: ok, LastRule: lastRule}, nil
}

// apply is SimpleRuleSet._apply; last collects the matching lines
// (reset for each top-level rule, as upstream's lastrule is).
func apply(ctx context.Context, rules []*rule, data map[string]any, top bool, last *[]*rule) (string, bool, error) {
	for _, r := range rules {
		if top {
			*last = nil
		}
		value := true
		for _, t := range r.tests {
			ok, err := t.Run(ctx, data)
			if err != nil {
				return "", false, err
			}
			if !ok {
				value = false
				break
			}
		}
		if r.negate {
			value = !value
		}
		if !value {
			continue
		}
		*last = append(*last, r)
		if r.block == nil {
			return r.action, true, nil
		}
		if action, ok, err := apply(ctx, r.block, data, false, last); err != nil || ok {
			return action, ok, err
		}
	}
	return "", false, nil
}

// AllActions lists the first word of every action of the rule set, each
// once (SimpleRuleSet.all_actions), in the order they first appear.
func (rs *RuleSet) AllActions() []string {
	seen := map[string]bool{}
	var out []string
	var walk func([]*rule)
	walk = func(rules []*rule) {
		for _, r := range rules {
			if r.block != nil {
				walk(r.block)
				continue
			}
			name := ""
			if f := Fields(r.action); len(f) > 0 {
				name = f[0]
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	walk(rs.rules)
	return out
}

// isSpace is Python's str.isspace for one character, which str.split()
// and str.strip() use: Go's unicode.IsSpace plus the separators
// U+001C..U+001F.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// Fields is Python's str.split() with no arguments.
func Fields(s string) []string {
	return strings.FieldsFunc(s, isSpace)
}

// splitLines is Python's str.splitlines().
func splitLines(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		case '\r':
			out = append(out, string(rs[start:i]))
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			start = i + 1
			continue
		default:
			continue
		}
		out = append(out, string(rs[start:i]))
		start = i + 1
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}
