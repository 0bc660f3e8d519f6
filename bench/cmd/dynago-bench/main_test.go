package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// parse parses args with BENCH_QUICK=env. --repo is given so that no
// test starts git.
func parse(t *testing.T, env string, args ...string) config {
	t.Helper()
	t.Setenv("BENCH_QUICK", env)
	c, err := parseFlags(append(args, "--repo", t.TempDir()), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	return c
}

func TestFlagDefaults(t *testing.T) {
	c := parse(t, "")
	if c.quick || c.runs != 3 || c.runSeconds != 3 || c.deadline != 40*time.Minute ||
		strings.Join(c.systems, ",") != "redis,single,cluster" || len(c.workloads) != 14 || !c.clusterCC || c.collectionKeys != 1000 {
		t.Errorf("full defaults: %+v", c)
	}
	for _, q := range []config{parse(t, "1"), parse(t, "", "--quick")} {
		if !q.quick || q.runs != 1 || q.runSeconds != 1 || q.deadline != 5*time.Minute || q.clusterCC || len(q.workloads) != 10 {
			t.Errorf("quick defaults: runs %d, run-seconds %v, deadline %v, workloads %v", q.runs, q.runSeconds, q.deadline, q.workloads)
		}
	}
	// Explicit flags win over the quick defaults, and BENCH_QUICK=0 is off.
	if c := parse(t, "1", "--runs", "5"); c.runs != 5 || c.runSeconds != 1 {
		t.Errorf("--runs 5 under BENCH_QUICK=1: runs %d run-seconds %v", c.runs, c.runSeconds)
	}
	if c := parse(t, "1", "--workloads", "hset-p1"); len(c.workloads) != 1 {
		t.Errorf("--workloads under BENCH_QUICK=1: %v", c.workloads)
	}
	if c := parse(t, "0"); c.quick {
		t.Error("BENCH_QUICK=0 turned quick mode on")
	}
	if c := parse(t, "1", "--quick=false"); c.quick {
		t.Error("--quick=false did not win over BENCH_QUICK=1")
	}
	if c := parse(t, "", "--scale"); strings.Join(c.systems, ",") != "cluster" || c.deadline != 30*time.Minute {
		t.Errorf("--scale: systems %v deadline %v", c.systems, c.deadline)
	}
	if c := parse(t, "", "--ae"); !c.ae || strings.Join(c.systems, ",") != "cluster" || c.deadline != 15*time.Minute ||
		c.runSeconds != 10 || c.runs != 3 || c.aeInterval != time.Second || !c.aeJoin ||
		fmt.Sprint(c.aeDivergence) != "[0.1 1 10]" || fmt.Sprint(c.aeForeground) != "[1 10]" {
		t.Errorf("--ae: %+v", c)
	}
	if c := parse(t, "1", "--ae"); c.runs != 1 || c.runSeconds != 2 || c.deadline != 6*time.Minute {
		t.Errorf("BENCH_QUICK=1 --ae: runs %d, run-seconds %v, deadline %v", c.runs, c.runSeconds, c.deadline)
	}
	if c := parse(t, "", "--ae", "--ae-divergence", "5%, 50", "--run-seconds", "2"); fmt.Sprint(c.aeDivergence) != "[5 50]" || c.runSeconds != 2 {
		t.Errorf("--ae-divergence 5%%,50: %v, run-seconds %v", c.aeDivergence, c.runSeconds)
	}
	if c := parse(t, "", "--scale", "--scale-10m"); c.deadline != 90*time.Minute {
		t.Errorf("--scale-10m deadline %v", c.deadline)
	}
}

func TestFlagAttach(t *testing.T) {
	c := parse(t, "", "--attach", "single=127.0.0.1:7000, redis=127.0.0.1:6379")
	if strings.Join(c.systems, ",") != "redis,single" || c.attach["single"] != "127.0.0.1:7000" {
		t.Errorf("attach: systems %v attach %v", c.systems, c.attach)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--systems", "redis,olric"},
		{"--systems", ""},
		{"--workloads", "lrange-p1"},
		{"--attach", "single"},
		{"--attach", "single=127.0.0.1:1", "--systems", "redis"},
		{"--scale", "--systems", "redis"},
		{"--runs", "0"},
		{"--collection-keys", "0"},
		{"--max-requests", "3000000000"},
		{"stray"},
		{"--ae", "--scale"},
		{"--ae", "--systems", "single"},
		{"--ae", "--attach", "cluster=127.0.0.1:1"},
		{"--ae", "--ae-interval", "0"},
		{"--ae-divergence", "0"},
		{"--ae-foreground", "101"},
		{"--ae-divergence", "x"},
	} {
		t.Setenv("BENCH_QUICK", "")
		if _, err := parseFlags(append(args, "--repo", t.TempDir()), io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		}
	}
}
