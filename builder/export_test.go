package builder

// SetLoadAvgFile makes the daemons read the load average from file
// until the returned function restores /proc/loadavg. Tests that call it
// must not run in parallel.
func SetLoadAvgFile(file string) (restore func()) {
	old := loadAvgFile
	loadAvgFile = file
	return func() { loadAvgFile = old }
}
