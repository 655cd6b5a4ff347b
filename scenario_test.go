package paws

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadScenario(t testing.TB, path string) *Scenario {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScenario(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func scenarioFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/scenarios/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	return files
}

// TestVectors runs every test vector of testdata/scenarios and checks the
// outcome, reason and counter deltas of every event.
func TestVectors(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range scenarioFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		seen[name[:4]] = true
		t.Run(name, func(t *testing.T) {
			s := loadScenario(t, path)
			for i, x := range s.Expect {
				if x == nil {
					t.Errorf("events[%d]: no expectation", i)
				}
			}
			res, _, err := s.Run()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range s.Check(res) {
				t.Errorf("%v\n\t%s", m, res[m.Index].Explain())
			}
		})
	}
	for i := 1; i <= 17; i++ {
		tv := "tv" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		if !seen[tv] {
			t.Errorf("no scenario file for %s", tv)
		}
	}
}
