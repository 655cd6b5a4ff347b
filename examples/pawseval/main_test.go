package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const tv1 = "../../testdata/scenarios/tv01-incident-rhel7.json"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestTV1Table checks that the table of TV1 reproduces the incident.
func TestTV1Table(t *testing.T) {
	var b bytes.Buffer
	ok, err := run(&b, tv1, false, true, false)
	if err != nil || !ok {
		t.Fatalf("run: ok %v, err %v\n%s", ok, err, b.String())
	}
	golden(t, "tv01.table.golden", b.Bytes())
	if !strings.Contains(b.String(), "6  8.296   syn           172.16.0.13:40001  271351766   drop     per_host_paws  PAWSPassive+1 ListenDrops+1") {
		t.Errorf("table misses the last dropped retransmission:\n%s", b.String())
	}
}

func TestTV1JSON(t *testing.T) {
	var b bytes.Buffer
	if _, err := run(&b, tv1, true, false, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "tv01.json.golden", b.Bytes())
	var out struct {
		Results []struct {
			Index    int               `json:"index"`
			Outcome  string            `json:"outcome"`
			Reason   string            `json:"reason"`
			Counters map[string]uint64 `json:"counters"`
		} `json:"results"`
		Totals map[string]uint64 `json:"totals"`
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 8 || out.Results[2].Outcome != "drop" || out.Results[2].Reason != "per_host_paws" {
		t.Errorf("unexpected results %+v", out.Results)
	}
	if out.Totals["PAWSPassive"] != 5 || out.Totals["ListenDrops"] != 5 {
		t.Errorf("totals %v, want PAWSPassive 5 and ListenDrops 5", out.Totals)
	}
}

func TestCheckFails(t *testing.T) {
	data, err := os.ReadFile(tv1)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `"outcome": "answer"}}`, `"outcome": "drop"}}`, 1)
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	ok, err := run(&b, path, false, true, false)
	if err != nil || ok {
		t.Fatalf("ok %v, err %v; want a mismatch", ok, err)
	}
	if !strings.Contains(b.String(), "MISMATCH events[0].outcome: want drop, got answer") {
		t.Errorf("output:\n%s", b.String())
	}
}

func TestBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(`{"kernel": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := run(&bytes.Buffer{}, path, false, false, false)
	if err == nil || !strings.Contains(err.Error(), "bad.json: paws: scenario: kernel:") {
		t.Errorf("err %v", err)
	}
	if _, err := run(&bytes.Buffer{}, filepath.Join(t.TempDir(), "missing.json"), false, false, false); !os.IsNotExist(err) {
		t.Errorf("missing file: err %v, want not exist", err)
	}
}
