// Package agent converges one VM's bot containers to the desired state and reports its
// health. All decisions live here; the machine (docker, TCP, HTTP, clock, addresses, an
// inter-process lock) is reached through small interfaces so the logic is tested with
// fakes on any OS. cmd/botagent wires the real implementations.
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/botpool/botpool/addressplan"
)

// NamePrefix starts the name of every bot container (addressplan.ContainerName).
const NamePrefix = "bot-"

// Defaults for the Agent's tunables.
const (
	DefaultReadyTimeout = 5 * time.Minute
	DefaultPollInterval = 2 * time.Second
	DefaultStopTimeout  = 30 * time.Second
	DefaultRepairGrace  = time.Minute
)

// Agent converges the bot containers of the VM it runs on.
type Agent struct {
	Docker  Docker
	Ports   PortChecker
	Drainer Drainer
	Clock   Clock
	Addrs   AddrSource
	Lock    Locker
	// ReadFile reads the env file, whose content is part of each container's spec.
	ReadFile func(string) ([]byte, error)
	Log      *slog.Logger

	// ReadyTimeout bounds the wait for a new container to answer on its port.
	ReadyTimeout time.Duration
	// PollInterval is the pause between port checks and lock attempts.
	PollInterval time.Duration
	// StopTimeout is docker stop's grace period before it kills the container.
	StopTimeout time.Duration
	// RepairGrace is how long an exited container is left to Docker's restart policy
	// before the periodic repair recreates it.
	RepairGrace time.Duration
}

// New returns an Agent on the real machine (docker CLI, TCP, HTTP, wall clock) with
// default tunables. lock serialises apply and repair across processes.
func New(lock Locker, log *slog.Logger) *Agent {
	return &Agent{
		Docker:   DockerCLI{},
		Ports:    TCPPortChecker{Timeout: 2 * time.Second},
		Drainer:  HTTPDrainer{},
		Clock:    RealClock{},
		Addrs:    InterfaceAddrs,
		Lock:     lock,
		ReadFile: os.ReadFile,
		Log:      log,
	}
}

func (a *Agent) readyTimeout() time.Duration { return orDefault(a.ReadyTimeout, DefaultReadyTimeout) }
func (a *Agent) pollInterval() time.Duration { return orDefault(a.PollInterval, DefaultPollInterval) }
func (a *Agent) stopTimeout() time.Duration  { return orDefault(a.StopTimeout, DefaultStopTimeout) }
func (a *Agent) repairGrace() time.Duration  { return orDefault(a.RepairGrace, DefaultRepairGrace) }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (a *Agent) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a.Log
}

// Host finds this VM's entry in the plan by its local IPv4 addresses.
func (a *Agent) Host(d Desired) (addressplan.Host, error) {
	addrs, err := a.Addrs()
	if err != nil {
		return addressplan.Host{}, fmt.Errorf("list this VM's IP addresses: %w", err)
	}
	var mine []string
	var found []addressplan.Host
	for _, ip := range addrs {
		if !ip.Is4() || ip.IsLoopback() {
			continue
		}
		mine = append(mine, ip.String())
		if h, ok := d.Plan.HostFor(ip.String()); ok {
			found = append(found, h)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return addressplan.Host{}, fmt.Errorf("this VM is not in the plan: none of its IPv4 addresses [%s] is a privateIp of plan.hosts (subnet %s, %d hosts)",
			strings.Join(mine, ", "), d.Plan.Subnet, len(d.Plan.Hosts))
	default:
		var ips []string
		for _, h := range found {
			ips = append(ips, h.PrivateIP)
		}
		return addressplan.Host{}, fmt.Errorf("this VM matches several plan.hosts [%s]; a VM must hold exactly one address of the pool subnet", strings.Join(ips, ", "))
	}
}

// Specs are the containers the host must run, in plan order.
func (a *Agent) Specs(d Desired, h addressplan.Host) ([]RunSpec, error) {
	envSum := ""
	if d.EnvFile != "" {
		b, err := a.ReadFile(d.EnvFile)
		if err != nil {
			return nil, fmt.Errorf("read envFile %s: %w", d.EnvFile, err)
		}
		s := sha256.Sum256(b)
		envSum = hex.EncodeToString(s[:])
	}
	specs := make([]RunSpec, 0, len(h.Bots))
	for _, b := range h.Bots {
		s := RunSpec{
			Name:          addressplan.ContainerName(b.Port),
			Image:         d.Image,
			HostPort:      b.Port,
			ContainerPort: d.Plan.ContainerPort,
			RunArgs:       slices.Clone(d.Plan.RunArgs),
			EnvFile:       d.EnvFile,
		}
		s.SpecHash = specHash(s, envSum)
		specs = append(specs, s)
	}
	return specs, nil
}

func specHash(s RunSpec, envSum string) string {
	b, _ := json.Marshal(struct {
		Image         string
		HostPort      int
		ContainerPort int
		RunArgs       []string
		EnvFile       string
		EnvSum        string
	}{s.Image, s.HostPort, s.ContainerPort, s.RunArgs, s.EnvFile, envSum})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// upToDate says whether c was started from spec.
func upToDate(c Container, s RunSpec) bool {
	return c.Image == s.Image && c.SpecHash == s.SpecHash
}

// exitedFor is true for a container that is down (not running, not being restarted by
// Docker) and has been for at least grace.
func exitedFor(c Container, now time.Time, grace time.Duration) bool {
	switch c.State {
	case "exited", "dead", "created":
	default:
		return false
	}
	return c.FinishedAt.IsZero() || now.Sub(c.FinishedAt) >= grace
}

// plannedAndStrays lists the host's containers: by expected name, and the bot-*
// containers the plan does not expect on this host.
func plannedAndStrays(cs []Container, specs []RunSpec) (map[string]Container, []Container) {
	want := map[string]bool{}
	for _, s := range specs {
		want[s.Name] = true
	}
	byName := map[string]Container{}
	var strays []Container
	for _, c := range cs {
		if !strings.HasPrefix(c.Name, NamePrefix) {
			continue
		}
		if want[c.Name] {
			byName[c.Name] = c
		} else {
			strays = append(strays, c)
		}
	}
	slices.SortFunc(strays, func(x, y Container) int { return strings.Compare(x.Name, y.Name) })
	return byName, strays
}

// hostLabel names the host in messages.
func hostLabel(h addressplan.Host) string {
	return fmt.Sprintf("%s (ordinal %d)", h.PrivateIP, h.Ordinal)
}

// StaticAddrs is an AddrSource with fixed addresses.
func StaticAddrs(ips ...string) AddrSource {
	return func() ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range ips {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	}
}

func (a *Agent) locker() Locker {
	if a.Lock == nil {
		return NoLock{}
	}
	return a.Lock
}

// withLock waits for the lock until ctx is done.
func (a *Agent) withLock(ctx context.Context, fn func() error) error {
	logged := false
	for {
		unlock, ok, err := a.locker().TryLock()
		if err != nil {
			return fmt.Errorf("take the agent lock: %w", err)
		}
		if ok {
			defer unlock()
			return fn()
		}
		if !logged {
			a.log().Info("waiting for another botagent to finish changing containers")
			logged = true
		}
		if err := a.Clock.Sleep(ctx, a.pollInterval()); err != nil {
			_ = err
			return fmt.Errorf("waiting for another botagent to release the agent lock: %w", context.Cause(ctx))
		}
	}
}
