package resp

// splitInline splits an inline command line into arguments exactly as
// Redis's sdssplitargs does, appending them to the batch (unescaped into
// the arena). It reports false for unbalanced quotes.
//
// The rules, from sds.c: arguments are separated by white space; "double
// quotes" understand \xHH, \n, \r, \t, \b, \a and \<any>; 'single quotes'
// understand only \'; a closing quote must be followed by white space or
// the end of the line; a quote may also open in the middle of an unquoted
// argument and continues it. The line is a C string: a NUL byte outside
// quotes ends it, inside quotes it is an unbalanced quote.
func (p *parser) splitInline(line []byte) bool {
	n := len(line)
	at := func(j int) byte {
		if j < n {
			return line[j]
		}
		return 0
	}
	i := 0
	for {
		for at(i) != 0 && isCSpace(at(i)) {
			i++
		}
		if at(i) == 0 {
			return true
		}
		start := len(p.arena)
		inq, insq, done := false, false, false
		for !done {
			c := at(i)
			switch {
			case inq:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					p.arena = append(p.arena, hexVal(at(i+2))<<4|hexVal(at(i+3)))
					i += 3
				case c == '\\' && at(i+1) != 0:
					i++
					e := at(i)
					switch e {
					case 'n':
						e = '\n'
					case 'r':
						e = '\r'
					case 't':
						e = '\t'
					case 'b':
						e = '\b'
					case 'a':
						e = '\a'
					}
					p.arena = append(p.arena, e)
				case c == '"':
					if at(i+1) != 0 && !isCSpace(at(i+1)) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					p.arena = append(p.arena, c)
				}
			case insq:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					p.arena = append(p.arena, '\'')
				case c == '\'':
					if at(i+1) != 0 && !isCSpace(at(i+1)) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					p.arena = append(p.arena, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					p.arena = append(p.arena, c)
				}
			}
			if at(i) != 0 {
				i++
			}
		}
		p.spans = append(p.spans, span{a: start, b: len(p.arena), inArena: true})
	}
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
