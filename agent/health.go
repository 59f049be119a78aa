package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultInterval is how often `serve` re-checks and repairs.
const DefaultInterval = 30 * time.Second

// Rich health states of the Application Health extension.
const (
	StateHealthy   = "Healthy"
	StateUnhealthy = "Unhealthy"
)

// HealthResponse is the body of the health endpoint. The Application Health extension
// reads ApplicationHealthState; Details is for people.
type HealthResponse struct {
	ApplicationHealthState string   `json:"ApplicationHealthState"`
	Details                []string `json:"details,omitempty"`
}

// ErrHealthPortChanged ends Monitor.Run when the desired state moves the health
// endpoint to another port: the service manager restarts the agent, which then listens
// on the new port.
var ErrHealthPortChanged = errors.New("health port changed")

// Monitor is the long-running mode: every Interval it reloads the desired-state file,
// repairs, re-checks, and caches the status the health endpoint serves. Probes never
// run docker.
type Monitor struct {
	Agent       *Agent
	DesiredPath string
	Interval    time.Duration
	// Load reads the desired state; nil means LoadDesired.
	Load func(path string) (Desired, error)

	mu      sync.Mutex
	desired *Desired // last valid desired state
	status  *Status
}

func (m *Monitor) interval() time.Duration { return orDefault(m.Interval, DefaultInterval) }

func (m *Monitor) load() (Desired, error) {
	if m.Load != nil {
		return m.Load(m.DesiredPath)
	}
	return LoadDesired(m.DesiredPath)
}

// Desired is the last valid desired state loaded (false before the first).
func (m *Monitor) Desired() (Desired, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.desired == nil {
		return Desired{}, false
	}
	return *m.desired, true
}

// Status is the cached status (false before the first check).
func (m *Monitor) Status() (Status, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status == nil {
		return Status{}, false
	}
	return *m.status, true
}

// Tick reloads the desired state, repairs and re-checks, caching and returning the
// status. An unreadable desired file keeps the last valid one for repairs but makes the
// VM unhealthy, since the script's request cannot be known.
func (m *Monitor) Tick(ctx context.Context) Status {
	a := m.Agent
	d, loadErr := m.load()
	if loadErr != nil {
		a.log().Error("desired state unreadable; keeping the last valid one", "error", loadErr)
		var ok bool
		if d, ok = m.Desired(); !ok {
			st := unhealthy(a.Clock.Now(), loadErr.Error())
			m.store(nil, st)
			return st
		}
	}
	actions, err := a.Repair(ctx, d)
	for _, act := range actions {
		a.log().Info("repair", "action", act)
	}
	if err != nil {
		a.log().Error("repair failed", "error", err)
	}
	st := a.Check(ctx, d)
	if loadErr != nil {
		st.Healthy = false
		st.Problems = append(st.Problems, loadErr.Error())
	}
	if !st.Healthy {
		a.log().Warn("unhealthy", "problems", strings.Join(st.Problems, "; "))
	}
	if loadErr == nil {
		m.store(&d, st)
	} else {
		m.store(nil, st)
	}
	return st
}

func (m *Monitor) store(d *Desired, st Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d != nil {
		m.desired = d
	}
	m.status = &st
}

// Health is what the endpoint answers now: the cached status, unhealthy if there is none
// yet or it is older than three intervals (the check loop is stuck).
func (m *Monitor) Health() HealthResponse {
	st, ok := m.Status()
	switch {
	case !ok:
		return HealthResponse{ApplicationHealthState: StateUnhealthy, Details: []string{"no check has completed yet"}}
	case m.Agent.Clock.Now().Sub(st.CheckedAt) > 3*m.interval():
		return HealthResponse{ApplicationHealthState: StateUnhealthy,
			Details: []string{fmt.Sprintf("last check at %s is stale (interval %s)", st.CheckedAt.UTC().Format(time.RFC3339), m.interval())}}
	case st.Healthy:
		return HealthResponse{ApplicationHealthState: StateHealthy}
	default:
		return HealthResponse{ApplicationHealthState: StateUnhealthy, Details: st.Problems}
	}
}

// ServeHTTP answers the Application Health extension on the desired health path.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, ok := m.Desired()
	if ok && r.URL.Path != d.Health.Path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(m.Health())
}

// Run serves the health endpoint and checks every Interval until ctx is done. The first
// check runs before the endpoint opens, so a probe never sees a VM that was not looked at.
// It returns ErrHealthPortChanged (wrapped) when a reloaded desired state moves the port.
func (m *Monitor) Run(ctx context.Context) error {
	m.Tick(ctx)
	d, ok := m.Desired()
	if !ok {
		st, _ := m.Status()
		return fmt.Errorf("cannot serve without a valid desired state: %s", strings.Join(st.Problems, "; "))
	}
	port := d.Health.Port
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("health endpoint: %w", err)
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	m.Agent.log().Info("serving health", "port", port, "path", d.Health.Path, "interval", m.interval())
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	for {
		select {
		case err := <-serveErr:
			return fmt.Errorf("health endpoint: %w", err)
		default:
		}
		if err := m.Agent.Clock.Sleep(ctx, m.interval()); err != nil {
			return nil // stopped
		}
		m.Tick(ctx)
		if d, ok := m.Desired(); ok && d.Health.Port != port {
			return fmt.Errorf("%w from %d to %d; restart to listen on the new port", ErrHealthPortChanged, port, d.Health.Port)
		}
	}
}
