package bench

import (
	"context"
	"strings"
	"testing"
)

// A CLUSTER NODES reply of redis 7.0.15 (3 masters), plus a replica and a
// migrating slot as redis-benchmark must skip them.
const clusterNodes = `12a85ae2c5f94b3df0b304691571e663edc4c5cc 127.0.0.1:17402@27402 master - 0 1795540089303 2 connected 5461-10922
a3945e2aaa3a626ed308cb3686990b636b920de9 127.0.0.1:17401@27401 myself,master - 0 1795540089000 1 connected [0->-7116bb3bcb996d5a8ba58d5bf4f96848138ed349] 0-5460
7116bb3bcb996d5a8ba58d5bf4f96848138ed349 127.0.0.1:17403@27403 master - 0 1795540090305 3 connected 10923 10924-16383
9999999999999999999999999999999999999999 127.0.0.1:17404@27404 slave 7116bb3bcb996d5a8ba58d5bf4f96848138ed349 0 1795540090305 3 connected
8888888888888888888888888888888888888888 127.0.0.1:17405@27405 master - 0 1795540090305 4 connected
`

func TestParseClusterNodes(t *testing.T) {
	ms, err := ParseClusterNodes(clusterNodes)
	if err != nil {
		t.Fatal(err)
	}
	want := []ClusterMaster{
		{"12a85ae2c5f94b3df0b304691571e663edc4c5cc", "127.0.0.1:17402", 5461, 5462},
		{"a3945e2aaa3a626ed308cb3686990b636b920de9", "127.0.0.1:17401", 0, 5461},
		{"7116bb3bcb996d5a8ba58d5bf4f96848138ed349", "127.0.0.1:17403", 10923, 5461},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %+v", ms)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("master %d: got %+v, want %+v", i, ms[i], want[i])
		}
	}
	for _, bad := range []string{"abc 127.0.0.1:1 master", "a 127.0.0.1:1@2 master - 0 0 1 connected 5-x", "a b master - 0 0 1 connected 9-3"} {
		if _, err := ParseClusterNodes(bad); err == nil {
			t.Errorf("ParseClusterNodes(%q): no error", bad)
		}
	}
}

func TestKeyPrefix(t *testing.T) {
	for k, want := range map[string]string{
		"key:{06S}:000000000000": "key:{06S}:",
		"key:{8M}}:000000000007": "key:{8M}}:", // 2-character tags are padded with '}'
		"key:000000000000":       "",
		"key:{06S}:00000000000x": "",
		"short":                  "",
	} {
		got, ok := keyPrefix(k)
		if got != want && ok || ok != (want != "") {
			t.Errorf("keyPrefix(%q) = %q, %v; want %q", k, got, ok, want)
		}
	}
}

// TestFakeCluster drives the probe's imitation cluster the way
// redis-benchmark --cluster does, without redis-benchmark.
func TestFakeCluster(t *testing.T) {
	ms, err := ParseClusterNodes(clusterNodes)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := startFakeCluster(ms)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	ctx := context.Background()
	if fc.allSeen() {
		t.Error("allSeen before any SET")
	}
	for i, port := range fc.ports {
		c := NewClient("127.0.0.1:"+itoa(port), 1)
		text, err := c.Do(ctx, "CLUSTER", "NODES").Text()
		if err != nil {
			t.Fatal(err)
		}
		// The imitation must read back as the real masters' first slots.
		got, err := ParseClusterNodes(text)
		if err != nil || len(got) != 3 || got[i].FirstSlot != ms[i].FirstSlot || got[i].Slots != 1 {
			t.Errorf("listener %d: CLUSTER NODES parses as %+v, %v", i, got, err)
		}
		if n := strings.Count(text, "myself"); n != 1 || !strings.Contains(strings.Split(text, "\n")[i], "myself,master") {
			t.Errorf("listener %d: myself flag wrong in\n%s", i, text)
		}
		cfg, err := c.Do(ctx, "CONFIG", "GET", "save").StringSlice()
		if err != nil || len(cfg) != 2 || cfg[0] != "save" || cfg[1] != "" {
			t.Errorf("CONFIG GET save: %q, %v", cfg, err)
		}
		tag := []string{"8M}", "06S", "63n"}[i]
		for j := range 3 {
			if err := c.Set(ctx, "key:{"+tag+"}:00000000000"+itoa(j), "x", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Do(ctx, "INCR", "x").Err(); err == nil {
			t.Error("INCR: no error from the imitation")
		}
		c.Close()
	}
	if !fc.allSeen() {
		t.Error("not allSeen after a SET at every master")
	}
	ps, err := fc.Prefixes()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ps, " ") != "key:{8M}}: key:{06S}: key:{63n}:" {
		t.Errorf("prefixes %q", ps)
	}
}

func TestFakeClusterRejectsMixedPrefixes(t *testing.T) {
	ms, _ := ParseClusterNodes(clusterNodes)
	fc, err := startFakeCluster(ms)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	c := NewClient("127.0.0.1:"+itoa(fc.ports[0]), 1)
	defer c.Close()
	ctx := context.Background()
	c.Set(ctx, "key:{a}:000000000000", "x", 0)
	c.Set(ctx, "key:{b}:000000000000", "x", 0)
	if _, err := fc.Prefixes(); err == nil {
		t.Error("two prefixes at one master: no error")
	}
}
