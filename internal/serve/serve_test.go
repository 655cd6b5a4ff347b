package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("body %q", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(ShutdownTimeout + time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still open after Run returned")
	}
}

func TestRunListenerError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Run(context.Background(), ln, http.NotFoundHandler())
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Run on a closed listener = %v, want its accept error", err)
	}
}

type name string

func (n name) String() string { return string(n) }

func TestListenAndRun(t *testing.T) {
	var out strings.Builder
	if err := ListenAndRun(context.Background(), "256.0.0.1:0", http.NotFoundHandler(), &out, "prog", "/x", name("here")); err == nil || out.Len() != 0 {
		t.Fatalf("bad address: err %v, wrote %q", err, out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ListenAndRun(ctx, "127.0.0.1:0", http.NotFoundHandler(), &out, "prog", "/x", name("here")); err != nil {
		t.Fatalf("cancelled run: %v", err)
	}
	if !regexp.MustCompile(`^prog: serving http://127\.0\.0\.1:\d+/x for here\n$`).MatchString(out.String()) {
		t.Errorf("announcement %q", out.String())
	}
}
