//go:build !unix && !windows

package suite

import "os"

// TODO(suite-locks): no file locks on this platform; parallel processes
// (ginkgo -p) may run scenarios on the same shared host at once.
func tryLockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
