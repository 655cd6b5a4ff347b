//go:build linux

package tcpdiag

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fakeProc writes a /proc-shaped tree: for each pid, fd links (number ->
// target), comm and a limits file with the given soft RLIMIT_NOFILE.
func fakeProc(t *testing.T, procs map[int]fakeProcess) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, fmt.Sprint(pid))
		if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
		for fd, target := range p.fds {
			if err := os.Symlink(target, filepath.Join(dir, "fd", fmt.Sprint(fd))); err != nil {
				t.Fatal(err)
			}
		}
		limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
			fmt.Sprintf("Max open files            %-20d %-20d files     \n", p.nofile, p.nofile)
		for name, body := range map[string]string{"comm": p.comm + "\n", "limits": limits} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Entries that are not processes are ignored.
	if err := os.WriteFile(filepath.Join(root, "uptime"), []byte("1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

type fakeProcess struct {
	comm   string
	fds    map[int]string
	nofile int
}

func TestOwnerScan(t *testing.T) {
	root := fakeProc(t, map[int]fakeProcess{
		100: {"server", map[int]string{0: "/dev/null", 1: "pipe:[5]", 3: "socket:[777]", 9: "socket:[888]", 12: "socket:[777]"}, 1024},
		// Every descriptor below its limit of 4 is taken.
		200: {"worker", map[int]string{0: "/dev/null", 1: "/dev/null", 2: "/dev/null", 3: "socket:[777]"}, 4},
		// Four descriptors and a limit of 4, but 2 is free: not at the limit.
		300: {"sparse", map[int]string{0: "/dev/null", 1: "/dev/null", 3: "socket:[888]", 70: "/dev/null"}, 4},
		400: {"other", map[int]string{0: "socket:[999]"}, 1024},
	})
	// A process whose fd directory is unreadable.
	if err := os.MkdirAll(filepath.Join(root, "500", "fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[777]", filepath.Join(root, "500", "fd", "3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "500", "fd"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "500", "fd"), 0o755) })
	_, probe := os.ReadDir(filepath.Join(root, "500", "fd"))
	denied := errors.Is(probe, fs.ErrPermission) // false for root, which bypasses modes

	s := ownerScan{root: root, want: map[uint64]int{777: 0, 888: 1}}
	procs, err := s.run()
	if denied {
		var pe *ProcessError
		if !errors.As(err, &pe) || !errors.Is(err, fs.ErrPermission) || !slices.Equal(pe.PIDs, []int{500}) {
			t.Errorf("error = %v, want a ProcessError for pid 500 matching fs.ErrPermission", err)
		}
	} else if err != nil {
		// pid 500 has no comm: like a process that exited during the
		// scan, it is left out without an error.
		t.Errorf("error = %v, want none", err)
	}
	got := map[[2]int]Process{}
	for _, p := range procs {
		got[[2]int{p.index, p.PID}] = p.Process
	}
	want := map[[2]int]Process{
		{0, 100}: {PID: 100, Command: "server", FDs: []int{3, 12}, OpenFiles: 5, MaxOpenFiles: 1024},
		{1, 100}: {PID: 100, Command: "server", FDs: []int{9}, OpenFiles: 5, MaxOpenFiles: 1024},
		{0, 200}: {PID: 200, Command: "worker", FDs: []int{3}, OpenFiles: 4, MaxOpenFiles: 4, AtFDLimit: true},
		{1, 300}: {PID: 300, Command: "sparse", FDs: []int{3}, OpenFiles: 4, MaxOpenFiles: 4},
	}
	if len(got) != len(want) {
		t.Errorf("found %d (listener, process) pairs, want %d: %+v", len(got), len(want), procs)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || g.PID != w.PID || g.Command != w.Command || !slices.Equal(g.FDs, w.FDs) ||
			g.OpenFiles != w.OpenFiles || g.MaxOpenFiles != w.MaxOpenFiles || g.AtFDLimit != w.AtFDLimit {
			t.Errorf("listener %d, pid %d: got %+v, want %+v", k[0], k[1], g, w)
		}
	}
}

func TestOwnerScanMissingRoot(t *testing.T) {
	s := ownerScan{root: filepath.Join(t.TempDir(), "nope"), want: map[uint64]int{1: 0}}
	if _, err := s.run(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want fs.ErrNotExist", err)
	}
}
