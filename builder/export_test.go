package builder

import "time"

// SetLoadAvgFile makes the daemons read the load average from file
// until the returned function restores /proc/loadavg. Tests that call it
// must not run in parallel.
func SetLoadAvgFile(file string) (restore func()) {
	old := loadAvgFile
	loadAvgFile = file
	return func() { loadAvgFile = old }
}

// SetReportTimeout bounds the calls reporting a task's end by d until
// the returned function restores the default. Tests that call it must
// not run in parallel.
func SetReportTimeout(d time.Duration) (restore func()) {
	old := reportTimeout
	reportTimeout = d
	return func() { reportTimeout = old }
}
