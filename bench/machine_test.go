package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nprocessor\t: 1\nmodel name\t: other\n"
	if got := CPUModel(info); got != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Errorf("CPUModel = %q", got)
	}
	if got := CPUModel("processor\t: 0\n"); got != "unknown" {
		t.Errorf("CPUModel without a model name = %q", got)
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tdynago\nVmPeak:\t 2000000 kB\nVmHWM:\t   81920 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n"
	m, err := ParseProcStatus(status)
	if err != nil || m.RSS != 40<<20 || m.Peak != 80<<20 {
		t.Errorf("ParseProcStatus = %+v, %v", m, err)
	}
	if _, err := ParseProcStatus("Name:\tzombie\n"); err == nil {
		t.Error("no error without VmRSS")
	}
	if _, err := ParseProcStatus("VmRSS:\t12 MB\n"); err == nil {
		t.Error("no error for an unexpected unit")
	}
	// Our own process has a status file.
	if m, err := ReadMemory(os.Getpid()); err != nil || m.RSS <= 0 {
		t.Errorf("ReadMemory(self) = %+v, %v", m, err)
	}
}

func TestParseProcStat(t *testing.T) {
	// A real line of a dynago node (utime 1234, stime 56), and the same
	// with a comm holding spaces and parentheses, which must not shift the
	// fields.
	rest := " S 1 4242 4242 0 -1 4194560 51230 0 0 0 1234 56 0 0 20 0 9 0 123456 2000000000 10240 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n"
	for _, stat := range []string{"4242 (dynago)" + rest, "4242 (a) b) (c d)" + rest, "4242 ())" + rest} {
		if n, err := ParseProcStat(stat); err != nil || n != 1290 {
			t.Errorf("ParseProcStat(%q) = %d, %v; want 1290", stat, n, err)
		}
	}
	for _, bad := range []string{"", "4242 dynago S 1", "4242 (dynago) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 0 0 0 0 0 u 56 0"} {
		if _, err := ParseProcStat(bad); err == nil {
			t.Errorf("ParseProcStat(%q): no error", bad)
		}
	}
	// Our own process: its CPU time grows while it spins (a tick is 10 ms;
	// the machine may be busy, hence the generous wall-clock limit).
	before, err := ReadCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; {
		now, err := ReadCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("ReadCPU(self) stayed at %v for 10 s of spinning", now)
		}
	}
}

func TestDirSize(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), make([]byte, 1000), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 24), 0o644)
	if n, err := DirSize(dir); err != nil || n != 1024 {
		t.Errorf("DirSize = %d, %v", n, err)
	}
}

func TestParseInfo(t *testing.T) {
	info := ParseInfo("# Cluster\r\ncluster_state:ok\r\ncluster_known_nodes:3\r\ncluster_size:3\r\n")
	if !ClusterReady(info, 3) {
		t.Errorf("ready cluster not ready: %v", info)
	}
	if ClusterReady(info, 4) {
		t.Error("3 known nodes counted as 4")
	}
	if ClusterReady(ParseInfo("cluster_state:fail\ncluster_known_nodes:3\n"), 3) {
		t.Error("failed cluster counted as ready")
	}
}

func TestKeySet(t *testing.T) {
	ks := KeySet{Prefixes: []string{"key:", "key:{06S}:"}, From: 10, To: 13}
	var got []string
	for i := range ks.Len() {
		got = append(got, ks.key(i))
	}
	want := "key:000000000010 key:000000000011 key:000000000012 key:{06S}:000000000010 key:{06S}:000000000011 key:{06S}:000000000012"
	if strings.Join(got, " ") != want {
		t.Errorf("keys %v", got)
	}
	// Every 1000th of 100k keys: the 0.1 % the anti-entropy run overwrites.
	st := KeySet{Prefixes: []string{"key:"}, From: 0, To: 100_000, Step: 1000}
	if k := st.Keys(); len(k) != 100 || k[0] != "key:000000000000" || k[99] != "key:000000099000" {
		t.Errorf("stepped set: %d keys, %v … %v", len(k), k[0], k[len(k)-1])
	}
	if n := (KeySet{Prefixes: []string{"k"}, From: 0, To: 10, Step: 3}).Len(); n != 4 {
		t.Errorf("0..9 step 3: %d keys, want 4 (0 3 6 9)", n)
	}
	if KeyName("key:", 99999) != "key:000000099999" {
		t.Error("KeyName does not match redis-benchmark's 12-digit key format")
	}
}

func TestRunnerArgs(t *testing.T) {
	r := Runner{Path: "redis-benchmark", Clients: 50, DataSize: 100, Keyspace: 100000, Timeout: time.Minute}
	got := strings.Join(r.Args(Endpoint{Addr: "127.0.0.1:7001"}, Workload{"get", 16}, 800000), " ")
	if got != "-h 127.0.0.1 -p 7001 -c 50 -n 800000 -d 100 -r 100000 -P 16 -t get" {
		t.Errorf("args: %s", got)
	}
	got = strings.Join(r.Args(Endpoint{Addr: "127.0.0.1:7001", Cluster: true}, Workload{"set", 1}, 1000), " ")
	if !strings.HasSuffix(got, "-P 1 -t set --cluster") {
		t.Errorf("cluster args: %s", got)
	}
	// INCR is a -t test over the keyspace; HSET, SADD, ZADD are commands
	// over CollectionKeys.
	r = Runner{Clients: 50, DataSize: 3, Keyspace: 100000, CollectionKeys: 1000}
	ep := Endpoint{Addr: "127.0.0.1:7000"}
	for _, tt := range []struct {
		w    Workload
		ep   Endpoint
		want string
	}{
		{Workload{"incr", 16}, ep, "-h 127.0.0.1 -p 7000 -c 50 -n 800 -d 3 -r 100000 -P 16 -t incr"},
		{Workload{"hset", 1}, ep, "-h 127.0.0.1 -p 7000 -c 50 -n 800 -d 3 -r 1000 -P 1 HSET bench:h:__rand_int__ f:__rand_int__ xxx"},
		{Workload{"sadd", 1}, Endpoint{Addr: ep.Addr, Cluster: true}, "-h 127.0.0.1 -p 7000 -c 50 -n 800 -d 3 -r 1000 -P 1 --cluster SADD bench:s:{tag}:__rand_int__ m:__rand_int__"},
		{Workload{"zadd", 16}, ep, "-h 127.0.0.1 -p 7000 -c 50 -n 800 -d 3 -r 1000 -P 16 ZADD bench:z:__rand_int__ __rand_int__ m:__rand_int__"},
	} {
		if got := strings.Join(r.Args(tt.ep, tt.w, 800), " "); got != tt.want {
			t.Errorf("%v:\n got %s\nwant %s", tt.w, got, tt.want)
		}
	}
	for w, want := range map[Workload]string{
		{"zadd", 1}:       "ZADD bench:z:000000000000 000000000000 m:000000000000",
		{"incr", 16}:      "INCR counter:000000000000",
		{"set", 1}:        "SET key:000000000000 xxx",
		{"ping_mbulk", 1}: "PING",
	} {
		if got := strings.Join(w.Probe(3), " "); got != want {
			t.Errorf("%v probe: %q, want %q", w, got, want)
		}
	}
	if s := (Workload{"zadd", 16}).String(); s != "ZADD P16" {
		t.Errorf("label %q", s)
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(3, 10000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || seen[p+10000] || p+10000 >= ephemeralLow() && ephemeralLow() > 20100 {
			t.Errorf("ports %v: %d repeats or reaches the ephemeral range", ports, p)
		}
		seen[p], seen[p+10000] = true, true
	}
}

func TestShellJoin(t *testing.T) {
	got := ShellJoin([]string{"redis-server", "--save", "", "--dir", "/tmp/a b", "it's"})
	if got != `redis-server --save '' --dir '/tmp/a b' 'it'\''s'` {
		t.Errorf("ShellJoin = %s", got)
	}
}
