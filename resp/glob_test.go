package resp

import (
	"strings"
	"testing"
)

// redisMatch is a direct port of Redis's recursive stringmatchlen (util.c,
// without its nesting limit), the slow reference FuzzGlob checks the fast
// matcher against. at() reads past the end as C's NUL terminator would.
func redisMatch(p, s []byte, nocase bool) bool {
	at := func(b []byte, i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	low := func(c int) int { return lowerASCII(c) }
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if redisMatch(p[1:], s, nocase) {
					return true
				}
				s = s[1:]
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := at(p, 0) == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if at(p, 0) == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if at(p, 0) == ']' {
					break
				} else if len(p) == 0 {
					p = p[:0]
					// pattern-- then pattern++ below: consume nothing more.
					goto classDone
				} else if len(p) >= 3 && p[1] == '-' {
					start, end, c := int(int8(p[0])), int(int8(p[2])), int(int8(s[0]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = low(start), low(end), low(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if !nocase {
					if p[0] == s[0] {
						match = true
					}
				} else if low(int(p[0])) == low(int(s[0])) {
					match = true
				}
				p = p[1:]
			}
			p = p[1:] // the ']'
		classDone:
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			goto next
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if nocase {
				if low(int(p[0])) != low(int(s[0])) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	next:
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s   string
		nocase bool
		want   bool
	}{
		{"*", "anything", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true},
		{`h\*llo`, "h*llo", false, true},
		{`h\*llo`, "hello", false, false},
		{"[abc", "b", false, true},
		{"[a-]", "]", false, true},
		{"[a-]", "b", false, false}, // the range a..']' (0x5d) does not hold 'b'
		{`[\]]`, "]", false, true},
		{"MAXMEM*", "maxmemory", true, true},
		{"[A-Z]", "m", true, true},
		{`[\A]`, "a", true, false},
		{"", "", false, true},
		{"*", "", false, false}, // callers shortcut "*" (glob.all)
		{"a*", "a", false, true},
		{"a**", "a", false, true},
		{"*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 50), false, false}, // exponential for the reference
	} {
		if got := globMatch([]byte(tc.p), []byte(tc.s), tc.nocase); got != tc.want {
			t.Errorf("%q ~ %q (nocase %v): %v", tc.p, tc.s, tc.nocase, got)
		}
		if len(tc.s) > 24 {
			continue
		}
		if got := redisMatch([]byte(tc.p), []byte(tc.s), tc.nocase); got != tc.want {
			t.Errorf("reference: %q ~ %q (nocase %v): %v", tc.p, tc.s, tc.nocase, got)
		}
	}
}

// The CVE-2022-36021 pattern takes linear steps; a pattern beyond the
// budget is reported as undecided, counted in steps, not wall time.
func TestGlobBudget(t *testing.T) {
	s := []byte(strings.Repeat("a", 5000))
	g := compileGlob([]byte(strings.Repeat("*a", 200)+"*b"), false)
	if m, ok := g.match(s, 4*len(s)+4*g.size); m || !ok {
		t.Fatalf("CVE pattern: match %v decided %v within a linear budget", m, ok)
	}
	g = compileGlob([]byte("*"+strings.Repeat("a", 1000)+"b"), false)
	if _, ok := g.match(s, globBudget(g.size, len(s))); ok {
		t.Fatal("quadratic pattern decided within the budget")
	}
}

// FuzzGlob checks the linear matcher against Redis's recursive algorithm
// on short inputs.
func FuzzGlob(f *testing.F) {
	f.Add([]byte("h[a-c]*o"), []byte("hbllo"), false)
	f.Fuzz(func(t *testing.T, p, s []byte, nocase bool) {
		if len(p) > 16 || len(s) > 24 {
			return
		}
		g := compileGlob(p, nocase)
		got, ok := g.match(s, globBudget(g.size, len(s)))
		if !ok {
			t.Fatalf("%q ~ %q: undecided on a short input", p, s)
		}
		if want := redisMatch(p, s, nocase); got != want {
			t.Fatalf("%q ~ %q (nocase %v): %v, Redis %v", p, s, nocase, got, want)
		}
	})
}
