// Package serve runs the HTTP server of an example program until its
// context ends.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ShutdownTimeout bounds how long Run waits for requests in flight once
// its context is done.
const ShutdownTimeout = 5 * time.Second

// ListenAndRun listens on addr, writes "prog: serving http://ADDR/path
// for what" to w, and runs h as Run does.
func ListenAndRun(ctx context.Context, addr string, h http.Handler, w io.Writer, prog, path string, what fmt.Stringer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: serving http://%s%s for %s\n", prog, ln.Addr(), path, what)
	return Run(ctx, ln, h)
}

// Run serves h on ln until ctx is done, then shuts the server down,
// waiting up to ShutdownTimeout for requests in flight. It returns nil
// after a shutdown that ctx asked for, and the server's error otherwise.
// The server's goroutine has ended when Run returns.
func Run(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}
