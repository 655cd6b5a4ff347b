package paws

import "errors"

// ErrNotSupported is wrapped by errors of readers that cannot work on this
// system: every reader of this module on an operating system other than
// Linux, and kernel features this kernel lacks.
var ErrNotSupported = errors.New("paws: not supported")
