package resp

// Glob matching for KEYS, SCAN MATCH, CONFIG GET and COMMAND LIST with the
// semantics of Redis's stringmatchlen (util.c): '*' matches any sequence,
// '?' any byte, '[abc]', '[^abc]', '[a-z]' (bounds in either order) a
// class, '\' escapes the next byte. Quirks kept on purpose: an unterminated
// class runs to the end of the pattern; "[a-]" is the range 'a'..']'; a
// class compares bytes as C's signed char; an escaped byte inside a class
// ignores nocase; an empty string matches only the empty pattern.
//
// Redis matches recursively, which is exponential on patterns like
// "*a*a*a*a…b" (CVE-2022-36021); its fix gives up after 1000 nested stars
// and answers "no match". Here the pattern is compiled into tokens that each
// match exactly one byte, plus stars, and matched by the two-pointer
// algorithm that backtracks only to the most recent star. That is correct
// for such tokens (a later star can absorb whatever an earlier star's
// longer match would have) and takes O(len(pattern)·len(key)) steps at
// worst. Every step, including each class item examined, counts against a
// budget proportional to the input sizes; a match that exceeds it is
// reported as not decidable, and the command fails with an error instead of
// spinning. Deviation from Redis: patterns with more than 1000 stars match
// correctly rather than never.

// globTok is one pattern token.
type globTok struct {
	kind  byte // '*', '?', 'l' (literal), '[' (class)
	lit   byte
	not   bool
	items []classItem
}

// classItem is one member of a [class]: a byte (lo == hi), an escaped byte,
// or a range compared as signed chars.
type classItem struct {
	lo, hi  int
	escaped bool
	isRange bool
}

// glob is a compiled pattern.
type glob struct {
	toks   []globTok
	size   int  // the pattern's length in bytes
	empty  bool // the pattern is ""
	all    bool // the pattern is "*": KEYS and SCAN skip matching (and so match "")
	nocase bool
}

// compileGlob tokenizes a pattern exactly as stringmatchlen walks it; the
// walk does not depend on the string being matched.
func compileGlob(p []byte, nocase bool) *glob {
	g := &glob{size: len(p), empty: len(p) == 0, all: len(p) == 1 && p[0] == '*', nocase: nocase}
	for i := 0; i < len(p); {
		switch p[i] {
		case '*':
			for i < len(p) && p[i] == '*' {
				i++
			}
			g.toks = append(g.toks, globTok{kind: '*'})
		case '?':
			g.toks = append(g.toks, globTok{kind: '?'})
			i++
		case '[':
			i++
			t := globTok{kind: '['}
			if i < len(p) && p[i] == '^' {
				t.not = true
				i++
			}
			for {
				if len(p)-i >= 2 && p[i] == '\\' {
					t.items = append(t.items, classItem{lo: int(p[i+1]), hi: int(p[i+1]), escaped: true})
					i += 2
				} else if i >= len(p) {
					break // unterminated: the class ends with the pattern
				} else if p[i] == ']' {
					i++
					break
				} else if len(p)-i >= 3 && p[i+1] == '-' {
					t.items = append(t.items, classItem{lo: int(int8(p[i])), hi: int(int8(p[i+2])), isRange: true})
					i += 3
				} else {
					t.items = append(t.items, classItem{lo: int(p[i]), hi: int(p[i])})
					i++
				}
			}
			g.toks = append(g.toks, t)
		case '\\':
			if len(p)-i >= 2 {
				i++
			}
			fallthrough
		default:
			g.toks = append(g.toks, globTok{kind: 'l', lit: p[i]})
			i++
		}
	}
	return g
}

func lowerASCII(c int) int {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// one reports whether token t matches byte c, adding the work done to
// *steps.
func (g *glob) one(t *globTok, c byte, steps *int) bool {
	switch t.kind {
	case '?':
		return true
	case 'l':
		if g.nocase {
			return lowerASCII(int(t.lit)) == lowerASCII(int(c))
		}
		return t.lit == c
	}
	match := false
	for _, it := range t.items {
		*steps++
		switch {
		case it.escaped:
			match = match || it.lo == int(c)
		case it.isRange:
			lo, hi, sc := it.lo, it.hi, int(int8(c))
			if lo > hi {
				lo, hi = hi, lo
			}
			if g.nocase {
				lo, hi, sc = lowerASCII(lo), lowerASCII(hi), lowerASCII(sc)
			}
			match = match || (sc >= lo && sc <= hi)
		case g.nocase:
			match = match || lowerASCII(it.lo) == lowerASCII(int(c))
		default:
			match = match || it.lo == int(c)
		}
	}
	return match != t.not
}

// globBudget is the most steps one match may take: linear in the input,
// with room for the backtracking ordinary patterns need.
func globBudget(pattern, s int) int { return 4096 + 64*(pattern+s) }

// match reports whether s matches. decided is false when the step budget
// ran out first.
func (g *glob) match(s []byte, budget int) (matched, decided bool) {
	if len(s) == 0 {
		return g.empty, true
	}
	ti, si := 0, 0
	starT, starS := -1, 0
	steps := 0
	for si < len(s) {
		steps++
		if steps > budget {
			return false, false
		}
		if ti < len(g.toks) {
			t := &g.toks[ti]
			if t.kind == '*' {
				starT, starS = ti, si
				ti++
				continue
			}
			if g.one(t, s[si], &steps) {
				ti++
				si++
				continue
			}
		}
		if starT < 0 {
			return false, true
		}
		// Let the last star absorb one more byte and retry after it.
		starS++
		si, ti = starS, starT+1
	}
	for ti < len(g.toks) && g.toks[ti].kind == '*' {
		ti++
	}
	return ti == len(g.toks), true
}

// globMatch compiles and matches once (CONFIG GET, COMMAND LIST).
func globMatch(pattern, s []byte, nocase bool) bool {
	m, _ := compileGlob(pattern, nocase).match(s, globBudget(len(pattern), len(s)))
	return m
}
