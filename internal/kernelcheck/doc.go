// Package kernelcheck tests the evaluator's assumptions against the running
// kernel. Each Scenario builds network namespaces (a server, a router and
// clients joined by veth links), sets the server's sysctls, plays traffic
// that makes the server ignore some SYNs, and removes everything again.
//
// While the traffic runs, tcpdump captures the server's interface and the
// server namespace's /proc/net/netstat is read before and after. The
// capture then goes through pcapts with an Evaluator built from what the
// namespace reports: its kernel profile and sysctls (package sysctl) and
// its listener's effective backlog (package tcpdiag). For every SYN the
// observed reaction (SYN-ACK, bare ACK, RST, nothing) is compared with the
// predicted one, and for every counter the evaluator models the observed
// delta with the predicted total. A Result says whether they agree and,
// if not, which SYN or counter differs.
//
// Only segments captured between the two counter reads are evaluated, so
// the capture and the counters cover the same traffic.
//
// Running a scenario needs root (namespaces, iptables, tcpdump) and the
// tools ip, iptables and tcpdump; Available says whether this process can.
// Every namespace, and with it every veth link and iptables rule, is
// deleted before Run returns, also on error or timeout.
package kernelcheck
