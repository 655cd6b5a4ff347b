package netstat

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Reader reads /proc/net/netstat and /proc/net/snmp of one network
// namespace again and again. Readers made by OpenHost, OpenPID and
// OpenNetNS keep both files open and re-read them with pread into one
// buffer, so ReadInto allocates nothing once the Snapshot has seen the
// current header lines. A Reader made by NewReader reads an fs.FS.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	names [2]string   // file names for errors
	files [2]*os.File // open files; nil for an fs.FS reader
	fsys  fs.FS       // for NewReader
	paths [2]string   // paths within fsys

	buf  []byte
	srcs [2]source
	lay  *layout // the last layout, shared with the snapshots
	now  func() time.Time
}

// Files of a proc tree, relative to its root.
const (
	netstatPath = "net/netstat"
	snmpPath    = "net/snmp"
)

// NewReader returns a Reader of net/netstat and net/snmp in fsys, a tree
// rooted where /proc is (os.DirFS("/proc"), or a saved copy). It opens the
// files on every read. Errors wrap fs.ErrNotExist for a missing file and
// fs.ErrPermission for an unreadable one.
func NewReader(fsys fs.FS) *Reader {
	return &Reader{
		names: [2]string{netstatPath, snmpPath},
		fsys:  fsys,
		paths: [2]string{netstatPath, snmpPath},
		now:   time.Now,
	}
}

// openFiles opens the two files under dir, such as "/proc/self/net".
func openFiles(dir string) (*Reader, error) {
	r := &Reader{now: time.Now}
	for i, base := range [2]string{"netstat", "snmp"} {
		name := dir + "/" + base
		f, err := os.Open(name)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("netstat: %w", err)
		}
		r.names[i], r.files[i] = name, f
	}
	return r, nil
}

// Close closes the files a Reader keeps open; later reads fail with an
// error wrapping fs.ErrClosed. It is a no-op for a Reader made by
// NewReader.
func (r *Reader) Close() error {
	var errs []error
	for i, f := range r.files {
		if f != nil {
			errs = append(errs, f.Close())
			r.files[i] = nil
		}
	}
	return errors.Join(errs...)
}

// Read returns a new Snapshot. Use ReadInto to reuse one.
func (r *Reader) Read() (*Snapshot, error) {
	s := new(Snapshot)
	if err := r.ReadInto(s); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadInto reads both files into s and sets s.Time. When the header lines
// are those s (or the previous read of r) already holds, only the values
// are parsed and nothing is allocated. On error s is left empty.
// Errors wrap fs.ErrNotExist, fs.ErrPermission or ErrParse.
func (r *Reader) ReadInto(s *Snapshot) error {
	r.buf = r.buf[:0]
	var ends [2]int
	for i := range r.names {
		var err error
		switch {
		case r.fsys != nil:
			err = r.readFS(i)
		case r.files[i] != nil:
			err = r.pread(i)
		default:
			err = fmt.Errorf("netstat: read %s: %w", r.names[i], fs.ErrClosed)
		}
		if err != nil {
			s.lay, s.values = nil, s.values[:0]
			return err
		}
		ends[i] = len(r.buf)
	}
	s.Time = r.now()
	r.srcs[0] = source{name: r.names[0], data: r.buf[:ends[0]]}
	r.srcs[1] = source{name: r.names[1], data: r.buf[ends[0]:ends[1]]}
	if err := s.parse(r.srcs[:], r.lay); err != nil {
		return err
	}
	r.lay = s.lay
	return nil
}

// pread appends the whole content of file i to r.buf. A seq_file read at
// offset 0 renders the file afresh, so the open file serves every read.
func (r *Reader) pread(i int) error {
	f := r.files[i]
	start := len(r.buf)
	for off := int64(0); ; {
		if len(r.buf) == cap(r.buf) {
			if len(r.buf)-start >= maxFileSize {
				return &ParseError{File: r.names[i], Line: 1, Msg: fmt.Sprintf("larger than %d bytes", maxFileSize)}
			}
			r.buf = append(r.buf, make([]byte, 8192)...)[:len(r.buf)]
		}
		n, err := f.ReadAt(r.buf[len(r.buf):cap(r.buf)], off)
		r.buf = r.buf[:len(r.buf)+n]
		off += int64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("netstat: %w", err)
		}
	}
}

func (r *Reader) readFS(i int) error {
	f, err := r.fsys.Open(r.paths[i])
	if err != nil {
		return fmt.Errorf("netstat: %w", err)
	}
	defer f.Close()
	start := len(r.buf)
	for {
		if len(r.buf) == cap(r.buf) {
			if len(r.buf)-start >= maxFileSize {
				return &ParseError{File: r.names[i], Line: 1, Msg: fmt.Sprintf("larger than %d bytes", maxFileSize)}
			}
			r.buf = append(r.buf, make([]byte, 8192)...)[:len(r.buf)]
		}
		n, err := f.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("netstat: read %s: %w", r.names[i], err)
		}
	}
}
