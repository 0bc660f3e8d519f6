package ring

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// Values verified with CLUSTER KEYSLOT on redis-server 7.0.15 started with
// --cluster-enabled yes; the edge cases pin each hash-tag rule.
func TestSlotKnownValues(t *testing.T) {
	for _, tc := range []struct {
		key  string
		slot uint16
	}{
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"123456789", 12739},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"{user1}.cart", 8106},
		{"user1", 8106},
		{"foo{}{bar}", 8363},    // empty first tag: whole key
		{"foo{{bar}}zap", 4015}, // tag is "{bar"
		{"foo{bar}{zap}", 5061}, // first tag only: "bar"
		{"{}", 15257},
		{"{", 4092},
		{"}", 12090},
		{"{a", 10276}, // no closing brace: whole key
		{"a}", 5921},
		{"{}a", 10875},
		{"a{}", 6082},
		{"x{y}z", 12222},
		{"{{}}", 4092}, // tag is "{"
		{"{}}", 14790},
		{"é", 10180},
		{"hello world", 15332},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if got := Slot([]byte(tc.key)); got != tc.slot {
				t.Fatalf("Slot(%q) = %d, want %d", tc.key, got, tc.slot)
			}
		})
	}
}

// The CRC16-XMODEM check value: CRC of "123456789" is 0x31C3.
func TestCRC16CheckValue(t *testing.T) {
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#04x, want 0x31c3", got)
	}
}

// testdata/keyslot.tsv holds 3000 random keys over an alphabet rich in
// braces, with the slots redis-server returned for them.
func TestSlotMatchesRedis(t *testing.T) {
	f, err := os.Open("testdata/keyslot.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		key, slot, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		want, err := strconv.Atoi(slot)
		if err != nil {
			t.Fatal(err)
		}
		if got := Slot([]byte(key)); int(got) != want {
			t.Errorf("Slot(%q) = %d, redis says %d", key, got, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("only %d keys in testdata/keyslot.tsv", n)
	}
}

// naiveCRC16 computes CRC16-XMODEM bit by bit, the definition the table
// implements.
func naiveCRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// naiveHashTag restates Redis's rule with the standard library.
func naiveHashTag(key []byte) []byte {
	open := bytes.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := bytes.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

func TestSlotProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.SliceOf(rapid.SampledFrom([]byte("{}ab\x00\xff"))).Draw(t, "key")
		if got, want := Slot(key), naiveCRC16(naiveHashTag(key))%Slots; got != want {
			t.Fatalf("Slot(%q) = %d, want %d", key, got, want)
		}
		// Any key carrying a non-empty tag first lands with the tag alone.
		tag := rapid.SliceOfN(rapid.SampledFrom([]byte("ab{\x00")), 1, 8).Draw(t, "tag")
		suffix := rapid.SliceOf(rapid.SampledFrom([]byte("{}ab"))).Draw(t, "suffix")
		tagged := append(append(append([]byte("{"), tag...), '}'), suffix...)
		if Slot(tagged) != Slot(tag) {
			t.Fatalf("Slot(%q) = %d, Slot(%q) = %d", tagged, Slot(tagged), tag, Slot(tag))
		}
	})
}

func TestPartitionOf(t *testing.T) {
	for q := MinPartitions; q <= MaxPartitions; q *= 2 {
		if !ValidPartitions(q) {
			t.Fatalf("ValidPartitions(%d) = false", q)
		}
		next := 0
		for p := range q {
			first, last := PartitionRange(p, q)
			if int(first) != next || int(last)-int(first)+1 != Slots/q {
				t.Fatalf("q=%d p=%d: range %d..%d", q, p, first, last)
			}
			if PartitionOf(first, q) != p || PartitionOf(last, q) != p {
				t.Fatalf("q=%d p=%d: PartitionOf disagrees with PartitionRange", q, p)
			}
			next = int(last) + 1
		}
		if next != Slots {
			t.Fatalf("q=%d: ranges end at %d", q, next)
		}
	}
	for _, q := range []int{0, 1, 8, 15, 17, 100, 255, 32768, -256} {
		if ValidPartitions(q) {
			t.Errorf("ValidPartitions(%d) = true", q)
		}
	}
}

func BenchmarkSlot(b *testing.B) {
	keys := [][]byte{[]byte("foo"), []byte("user:1000:profile"), []byte("{user1000}.following")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Slot(keys[i%len(keys)])
	}
}
