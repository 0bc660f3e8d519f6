package rdb

// lzfDecompress expands LZF data (liblzf, which Redis uses for strings
// longer than 20 bytes when rdbcompression is on) to exactly n bytes.
// A control byte below 32 starts a run of ctrl+1 literal bytes; any other
// is a back reference: length ctrl>>5 (7 means an extra length byte
// follows) plus 2, offset ((ctrl&31)<<8 | next byte) + 1 back.
func lzfDecompress(in []byte, n uint64) ([]byte, error) {
	// A back reference of 3 bytes expands to at most 264: bound n by the
	// input so that a forged length allocates nothing large.
	if n == 0 || n > uint64(len(in))*264 {
		return nil, ErrBadFormat
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			run := ctrl + 1
			if i+run > len(in) || uint64(len(out)+run) > n {
				return nil, ErrBadFormat
			}
			out = append(out, in[i:i+run]...)
			i += run
			continue
		}
		length := ctrl >> 5
		if length == 7 {
			if i >= len(in) {
				return nil, ErrBadFormat
			}
			length += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, ErrBadFormat
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		length += 2
		if ref < 0 || uint64(len(out)+length) > n {
			return nil, ErrBadFormat
		}
		for k := 0; k < length; k++ { // byte by byte: the source may overlap what is written
			out = append(out, out[ref+k])
		}
	}
	if uint64(len(out)) != n {
		return nil, ErrBadFormat
	}
	return out, nil
}
