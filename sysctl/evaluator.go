package sysctl

import (
	"time"

	"github.com/paws-go/paws"
)

// Profile returns the evaluator's profile of t.Kernel, corrected by what
// the sysctls show: a kernel that has net.ipv4.tcp_tw_recycle has the
// per-host PAWS check whatever its version says (a vendor kernel may keep
// it past 4.11). An absent tcp_tw_recycle changes nothing, because before
// 4.x it was global and is absent from every namespace but the first.
func (t TCP) Profile() paws.Profile {
	p := paws.ProfileFor(t.Kernel)
	if t.TWRecycle.Present && !p.HasTWRecycle {
		p.HasTWRecycle = true
		p.Era = paws.EraConnRequest // the 4.4–4.11 listen path, the last that had it
		p.CacheKey = paws.CacheKeyLocalRemote
		p.PerHostIPv6 = true
		p.Counters = p.Counters.With(paws.PAWSPassive)
	}
	return p
}

// Settings returns the sysctls of t as the evaluator's settings for
// profile p: each present value replaces p's default, each absent one
// keeps it.
func (t TCP) Settings(p paws.Profile) paws.Settings {
	s := paws.DefaultSettings(p)
	setBool := func(dst *int, v Value[bool]) {
		if v.Present {
			*dst = 0
			if v.V {
				*dst = 1
			}
		}
	}
	setInt := func(dst *int, v Value[int]) {
		if v.Present {
			*dst = v.V
		}
	}
	setMs := func(dst *int, v Value[time.Duration]) {
		if v.Present {
			*dst = int(v.V / time.Millisecond)
		}
	}
	setBool(&s.TCPTwRecycle, t.TWRecycle)
	if v, ok := t.Timestamps.Get(); ok {
		s.TCPTimestamps = int(v)
	}
	if v, ok := t.TWReuse.Get(); ok {
		s.TCPTwReuse = int(v)
	}
	if v, ok := t.SynCookies.Get(); ok {
		s.TCPSyncookies = int(v)
	}
	setMs(&s.TCPTwReuseDelay, t.TWReuseDelay)
	setInt(&s.TCPMaxSynBacklog, t.MaxSynBacklog)
	setInt(&s.Somaxconn, t.SoMaxConn)
	setBool(&s.TCPAbortOnOverflow, t.AbortOnOverflow)
	setBool(&s.TCPRFC1337, t.RFC1337)
	setMs(&s.TCPInvalidRatelimit, t.InvalidRatelimit)
	setBool(&s.TCPNoMetricsSave, t.NoMetricsSave)
	setInt(&s.TCPSynackRetries, t.SynackRetries)
	setInt(&s.TCPMaxTwBuckets, t.MaxTWBuckets)
	return s
}
