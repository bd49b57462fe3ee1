package policy

// Fnmatch is Python's fnmatch.fnmatch on POSIX (case-sensitive): name
// matches pattern as a whole, where "*" matches any run of characters
// ("/" included), "?" any one character, "[seq]" one character of seq
// and "[!seq]" one character not in seq. In a set, "a-z" is a range
// (one whose ends are out of order matches nothing), "-" first or last
// and "]" first are literal; a "[" without a closing "]" is literal.
// Backslash is an ordinary character.
func Fnmatch(name, pattern string) bool {
	n, p := []rune(name), []rune(pattern)
	// The classic backtracking on the last "*": each single-character
	// element matches exactly one rune, so retrying from the last star
	// with one more rune consumed finds a match whenever there is one.
	ni, pi := 0, 0
	star, starN := -1, 0
	for ni < len(n) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				star, starN = pi, ni
				pi++
				continue
			case '?':
				ni, pi = ni+1, pi+1
				continue
			case '[':
				if ok, next, isSet := matchSet(p, pi, n[ni]); isSet {
					if ok {
						ni, pi = ni+1, next
						continue
					}
				} else if n[ni] == '[' {
					ni, pi = ni+1, pi+1
					continue
				}
			default:
				if p[pi] == n[ni] {
					ni, pi = ni+1, pi+1
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		starN++
		ni, pi = starN, star+1
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchSet matches c against the set starting at p[i] == '['; isSet is
// false when the "[" has no closing "]" (a literal "["), next is the
// index after the set.
func matchSet(p []rune, i int, c rune) (ok bool, next int, isSet bool) {
	j := i + 1
	if j < len(p) && p[j] == '!' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) && p[j] != ']' {
		j++
	}
	if j >= len(p) {
		return false, 0, false
	}
	body := p[i+1 : j]
	negate := false
	if len(body) > 0 && body[0] == '!' {
		negate, body = true, body[1:]
	}
	if len(body) == 0 {
		// "[!]" matches any character, "[]" cannot occur (its "]" is
		// literal); Python's translate gives "." for "!".
		return negate, j + 1, true
	}
	in := false
	for k := 0; k < len(body); {
		if k+2 < len(body) && body[k+1] == '-' {
			if body[k] <= c && c <= body[k+2] {
				in = true
			}
			k += 3
			continue
		}
		if body[k] == c {
			in = true
		}
		k++
	}
	return in != negate, j + 1, true
}
