package kernelcheck

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds of a capture: tcpdump stops by itself after maxPackets packets,
// is killed with the scenario's context, and must be listening within
// captureStartTimeout and exit within captureStopTimeout of SIGTERM.
const (
	maxPackets          = 100000
	captureStartTimeout = 5 * time.Second
	captureStopTimeout  = 5 * time.Second
)

// capture is a tcpdump writing one interface of a namespace to a pcap file.
type capture struct {
	cmd  *exec.Cmd
	file string
	log  *os.File
	done bool
}

// startCapture starts tcpdump on iface inside n, writing TCP packets to
// file, and returns once tcpdump says it is listening.
func startCapture(ctx context.Context, n *netNS, iface, file string) (*capture, error) {
	log, err := os.Create(file + ".log")
	if err != nil {
		return nil, err
	}
	c := &capture{file: file, log: log}
	c.cmd = exec.CommandContext(ctx, "ip", "netns", "exec", n.name,
		"tcpdump", "-i", iface, "-n", "-s", "128", "-U", "--immediate-mode", "-c", strconv.Itoa(maxPackets), "-Z", "root", "-w", file, "tcp")
	c.cmd.Stderr = log
	if err := c.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start tcpdump: %w", err)
	}
	for deadline := time.Now().Add(captureStartTimeout); ; {
		out, _ := os.ReadFile(log.Name())
		if bytes.Contains(out, []byte("listening on")) {
			return c, nil
		}
		if time.Now().After(deadline) || c.exited() {
			c.stop()
			return nil, fmt.Errorf("tcpdump in netns %s not listening after %v: %s", n.name, captureStartTimeout, bytes.TrimSpace(out))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exited reports whether tcpdump has exited, without waiting.
func (c *capture) exited() bool {
	var info unix.Siginfo // Linux zeroes it when no child has changed state
	err := unix.Waitid(unix.P_PID, c.cmd.Process.Pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	return err != nil || info.Signo != 0
}

var droppedRE = regexp.MustCompile(`(\d+) packets? captured[\s\S]*?(\d+) packets? dropped by kernel`)

// stop ends tcpdump with SIGTERM (SIGKILL after captureStopTimeout) and
// returns its counts of captured and dropped packets. Calling it again
// does nothing.
func (c *capture) stop() (captured, dropped uint64, err error) {
	if c.done {
		return 0, 0, nil
	}
	c.done = true
	defer c.log.Close()
	c.cmd.Process.Signal(syscall.SIGTERM)
	kill := time.AfterFunc(captureStopTimeout, func() { c.cmd.Process.Kill() })
	werr := c.cmd.Wait()
	kill.Stop()
	out, _ := os.ReadFile(c.log.Name())
	m := droppedRE.FindSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("tcpdump (%v) printed no packet counts: %s", werr, bytes.TrimSpace(out))
	}
	captured, _ = strconv.ParseUint(string(m[1]), 10, 64)
	dropped, _ = strconv.ParseUint(string(m[2]), 10, 64)
	return captured, dropped, nil
}
