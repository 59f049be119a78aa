package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// The agent's dependencies on the machine sit behind these small interfaces, so every
// decision is tested on Linux with fakes.

// PortChecker says whether a host port accepts a TCP connection.
type PortChecker interface {
	Answers(ctx context.Context, port int) bool
}

// Drainer asks the bot on a host port to drain, waiting at most timeout.
type Drainer interface {
	Drain(ctx context.Context, port int, path string, timeout time.Duration) error
}

// Clock is time, injectable so tests do not wait.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// AddrSource lists this machine's IP addresses.
type AddrSource func() ([]netip.Addr, error)

// Locker serialises docker changes between processes: `apply` (run by the extension
// script) and the `serve` service's repairs must not replace the same container at once.
type Locker interface {
	// TryLock takes the lock if it is free; ok is false when someone else holds it.
	TryLock() (unlock func(), ok bool, err error)
}

// TCPPortChecker dials 127.0.0.1:port.
type TCPPortChecker struct{ Timeout time.Duration }

// Answers implements PortChecker.
func (c TCPPortChecker) Answers(ctx context.Context, port int) bool {
	t := c.Timeout
	if t <= 0 {
		t = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// HTTPDrainer POSTs to http://127.0.0.1:<port><path>. Any 2xx answer means drained.
type HTTPDrainer struct{ Client *http.Client }

// Drain implements Drainer.
func (h HTTPDrainer) Drain(ctx context.Context, port int, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// InterfaceAddrs lists the machine's unicast addresses.
func InterfaceAddrs() ([]netip.Addr, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range as {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if addr, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, addr.Unmap())
		}
	}
	return out, nil
}

// NoLock is a Locker that always succeeds, for single-process use and tests.
type NoLock struct{}

// TryLock implements Locker.
func (NoLock) TryLock() (func(), bool, error) { return func() {}, true, nil }
