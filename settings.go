package paws

import (
	"errors"
	"fmt"
)

// ErrSetting is wrapped by errors about sysctl names and values.
var ErrSetting = errors.New("paws: invalid setting")

// Names of the sysctls the Evaluator models, as accepted by SetSysctl.
const (
	SysctlTCPTimestamps       = "net.ipv4.tcp_timestamps"
	SysctlTCPTwRecycle        = "net.ipv4.tcp_tw_recycle"
	SysctlTCPTwReuse          = "net.ipv4.tcp_tw_reuse"
	SysctlTCPTwReuseDelay     = "net.ipv4.tcp_tw_reuse_delay"
	SysctlTCPMaxSynBacklog    = "net.ipv4.tcp_max_syn_backlog"
	SysctlSomaxconn           = "net.core.somaxconn"
	SysctlTCPSyncookies       = "net.ipv4.tcp_syncookies"
	SysctlTCPAbortOnOverflow  = "net.ipv4.tcp_abort_on_overflow"
	SysctlTCPRFC1337          = "net.ipv4.tcp_rfc1337"
	SysctlTCPInvalidRatelimit = "net.ipv4.tcp_invalid_ratelimit"
	SysctlTCPNoMetricsSave    = "net.ipv4.tcp_no_metrics_save"
	SysctlTCPSynackRetries    = "net.ipv4.tcp_synack_retries"
	SysctlTCPMaxTwBuckets     = "net.ipv4.tcp_max_tw_buckets"
)

// Settings are the sysctl values the Evaluator reads, as plain integers
// with the kernel's meaning. DefaultSettings gives a kernel's defaults.
type Settings struct {
	TCPTimestamps       int // net.ipv4.tcp_timestamps: 0 off, 1 on, 2 on without offset (4.10+)
	TCPTwRecycle        int // net.ipv4.tcp_tw_recycle (≤ 4.11): 1 enables per-host PAWS
	TCPTwReuse          int // net.ipv4.tcp_tw_reuse: 0, 1, 2 loopback only (4.18+)
	TCPTwReuseDelay     int // net.ipv4.tcp_tw_reuse_delay in ms (6.14+)
	TCPMaxSynBacklog    int // net.ipv4.tcp_max_syn_backlog
	Somaxconn           int // net.core.somaxconn, clamps the listen() backlog
	TCPSyncookies       int // net.ipv4.tcp_syncookies: 0, 1, 2 always (3.12+)
	TCPAbortOnOverflow  int // net.ipv4.tcp_abort_on_overflow
	TCPRFC1337          int // net.ipv4.tcp_rfc1337: 1 ignores RSTs in TIME_WAIT
	TCPInvalidRatelimit int // net.ipv4.tcp_invalid_ratelimit in ms (4.0+)
	TCPNoMetricsSave    int // net.ipv4.tcp_no_metrics_save: 1 caches no RTT at close
	TCPSynackRetries    int // net.ipv4.tcp_synack_retries: lifetime of a request
	TCPMaxTwBuckets     int // net.ipv4.tcp_max_tw_buckets
}

// DefaultSettings returns the defaults of p's kernel. tcp_max_syn_backlog
// and tcp_max_tw_buckets depend on memory at boot; DefaultSettings uses
// 1024 and 32768, values of a small server.
func DefaultSettings(p Profile) Settings {
	return Settings{
		TCPTimestamps:       1,
		TCPTwReuse:          p.DefaultTWReuse,
		TCPTwReuseDelay:     1000,
		TCPMaxSynBacklog:    1024,
		Somaxconn:           p.DefaultSomaxconn,
		TCPSyncookies:       p.DefaultSyncookies,
		TCPInvalidRatelimit: 500,
		TCPSynackRetries:    5,
		TCPMaxTwBuckets:     32768,
	}
}

type sysctlDef struct {
	name     string
	min, max int
	field    func(*Settings) *int
}

var sysctlDefs = [...]sysctlDef{
	{SysctlTCPTimestamps, 0, 2, func(s *Settings) *int { return &s.TCPTimestamps }},
	{SysctlTCPTwRecycle, 0, 1, func(s *Settings) *int { return &s.TCPTwRecycle }},
	{SysctlTCPTwReuse, 0, 2, func(s *Settings) *int { return &s.TCPTwReuse }},
	{SysctlTCPTwReuseDelay, 1, 2000000, func(s *Settings) *int { return &s.TCPTwReuseDelay }},
	{SysctlTCPMaxSynBacklog, 0, 1 << 30, func(s *Settings) *int { return &s.TCPMaxSynBacklog }},
	{SysctlSomaxconn, 0, 1 << 30, func(s *Settings) *int { return &s.Somaxconn }},
	{SysctlTCPSyncookies, 0, 2, func(s *Settings) *int { return &s.TCPSyncookies }},
	{SysctlTCPAbortOnOverflow, 0, 1, func(s *Settings) *int { return &s.TCPAbortOnOverflow }},
	{SysctlTCPRFC1337, 0, 1, func(s *Settings) *int { return &s.TCPRFC1337 }},
	{SysctlTCPInvalidRatelimit, 0, 1 << 30, func(s *Settings) *int { return &s.TCPInvalidRatelimit }},
	{SysctlTCPNoMetricsSave, 0, 1, func(s *Settings) *int { return &s.TCPNoMetricsSave }},
	{SysctlTCPSynackRetries, 0, 255, func(s *Settings) *int { return &s.TCPSynackRetries }},
	{SysctlTCPMaxTwBuckets, 0, 1 << 30, func(s *Settings) *int { return &s.TCPMaxTwBuckets }},
}

func sysctlIndex(name string) (int, bool) {
	for i := range sysctlDefs {
		if sysctlDefs[i].name == name {
			return i, true
		}
	}
	return 0, false
}

// SysctlNames returns the dotted names SetSysctl accepts.
func SysctlNames() []string {
	names := make([]string, len(sysctlDefs))
	for i := range sysctlDefs {
		names[i] = sysctlDefs[i].name
	}
	return names
}

// SetSysctl sets the setting of the dotted sysctl name, e.g.
// SetSysctl("net.ipv4.tcp_tw_recycle", 1). An unknown name or a value out
// of the kernel's range gives an error wrapping ErrSetting.
func (s *Settings) SetSysctl(name string, value int) error {
	i, ok := sysctlIndex(name)
	if !ok {
		return fmt.Errorf("%w: sysctl %q is not modelled", ErrSetting, name)
	}
	d := &sysctlDefs[i]
	if value < d.min || value > d.max {
		return fmt.Errorf("%w: %s = %d out of range [%d, %d]", ErrSetting, name, value, d.min, d.max)
	}
	*d.field(s) = value
	return nil
}

// Sysctl returns the value of the dotted sysctl name.
func (s Settings) Sysctl(name string) (int, bool) {
	i, ok := sysctlIndex(name)
	if !ok {
		return 0, false
	}
	return *sysctlDefs[i].field(&s), true
}
