//go:build linux

package netns

import (
	"fmt"
	"os"
	"runtime"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Do runs fn on a locked OS thread inside the namespace t and returns fn's
// error. Opening the namespace or entering it fails with an error that
// wraps the system error: os.ErrNotExist when the namespace file is gone
// (the process exited), os.ErrPermission without CAP_SYS_ADMIN.
func Do(t Target, fn func() error) error {
	if t.IsZero() {
		return fn()
	}
	target, err := open(t)
	if err != nil {
		return err
	}
	if t.Path != "" {
		defer target.Close()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := vnetns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open current netns: %w", err)
			return
		}
		defer origin.Close()
		if err := vnetns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter %s: %w", t, os.NewSyscallError("setns", err))
			return
		}
		ferr := fn()
		if err := vnetns.Set(origin); err != nil {
			// Leave the thread locked: it is destroyed when this
			// goroutine returns instead of serving other goroutines
			// from the wrong namespace.
			errc <- fmt.Errorf("return from %s: %w", t, os.NewSyscallError("setns", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func open(t Target) (vnetns.NsHandle, error) {
	if t.Path == "" {
		return vnetns.NsHandle(t.FD), nil
	}
	fd, err := unix.Open(t.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: t.Path, Err: err}
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err == nil && st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return 0, fmt.Errorf("%s is not a namespace file", t.Path)
	}
	return vnetns.NsHandle(fd), nil
}
