package tcpdiag

// The captures in testdata and what TestIntegrationCapture put in them.
const (
	captureInet      = "testdata/listeners_inet.bin"
	captureInet6     = "testdata/listeners_inet6.bin"
	captureMetrics   = "testdata/tcp_metrics.bin"
	captureV4Count   = 300 // 127.0.0.1:20000+i, backlog i%7+1
	captureV4Base    = 20000
	captureFullPort  = 22000 // backlog 2, 3 connections waiting
	captureV6Base    = 21000 // [::1]:21000..21004, backlog 10
	captureDualPort  = 21010 // [::]:21010, dual stack, backlog 11
	captureSeq       = 1
	captureMetricsS1 = "10.232.0.2"
	captureMetricsS2 = "10.232.0.3"
)
