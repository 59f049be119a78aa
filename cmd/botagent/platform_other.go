//go:build !windows

package main

import (
	"errors"
	"os"
	"syscall"
)

func defaultInstallPath() string { return "" }

// runAsService: outside Windows, serve runs in the foreground.
func runAsService(options) (bool, error) { return false, nil }

var errWindowsOnly = errors.New("the agent runs as a Windows service only on Windows; run `botagent serve` under your own supervisor instead")

func install(options) error { return errWindowsOnly }
func uninstall() error      { return errWindowsOnly }

// fileLock is an exclusive flock on a file beside the desired state.
type fileLock struct{ path string }

func (l fileLock) TryLock() (func(), bool, error) {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, true, nil
}
