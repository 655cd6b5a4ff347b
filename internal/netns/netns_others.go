//go:build !linux

package netns

import (
	"fmt"
	"runtime"
)

// Do runs fn directly for the zero Target and fails with an error wrapping
// ErrNotSupported for any other.
func Do(t Target, fn func() error) error {
	if t.IsZero() {
		return fn()
	}
	return fmt.Errorf("enter %s on %s: %w", t, runtime.GOOS, ErrNotSupported)
}
