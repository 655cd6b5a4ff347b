//go:build !linux

package kernelcheck

import (
	"context"
	"fmt"
	"runtime"

	"github.com/paws-go/paws"
)

// Available reports whether this process can run the scenarios; on this
// system it cannot: network namespaces are Linux's.
func Available() error {
	return fmt.Errorf("%w: network namespaces need Linux, this is %s: %w", ErrUnavailable, runtime.GOOS, paws.ErrNotSupported)
}

func run(context.Context, Scenario, Options) (*Result, error) {
	return nil, Available()
}
