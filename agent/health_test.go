package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func probe(t *testing.T, srv *httptest.Server, path string) (int, HealthResponse) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	var hr HealthResponse
	if resp.StatusCode == http.StatusOK {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&hr))
	}
	return resp.StatusCode, hr
}

func newTestMonitor(t *testing.T, w *world, d *Desired) (*Monitor, *httptest.Server) {
	m := &Monitor{
		Agent:    newTestAgent(t, w),
		Interval: 30 * time.Second,
		Load:     func(string) (Desired, error) { return *d, nil },
	}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv
}

func TestHealthGoesUnhealthyAndBackAfterRepair(t *testing.T) {
	w := newWorld()
	d := testDesired(t, imgV1)
	m, srv := newTestMonitor(t, w, &d)
	_, err := m.Agent.Apply(context.Background(), d)
	require.NoError(t, err)
	ctx := context.Background()

	m.Tick(ctx)
	code, hr := probe(t, srv, "/health")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, HealthResponse{ApplicationHealthState: StateHealthy}, hr)

	// A container exits and Docker does not bring it back.
	w.exit("bot-8015", 137)
	m.Tick(ctx)
	_, hr = probe(t, srv, "/health")
	assert.Equal(t, StateUnhealthy, hr.ApplicationHealthState)
	assert.Equal(t, []string{"bot-8015: exited with code 137"}, hr.Details)

	// After the repair grace, the next check recreates it.
	w.advance(time.Minute)
	w.Reset()
	m.Tick(ctx)
	assert.Equal(t, []string{"remove bot-8015", "run bot-8015 " + imgV1}, mutating(w.Events()))
	_, hr = probe(t, srv, "/health")
	assert.Equal(t, StateHealthy, hr.ApplicationHealthState)

	// A container runs but its port stops answering: unhealthy, not recreated.
	w.portDown[8016] = true
	w.Reset()
	m.Tick(ctx)
	assert.Empty(t, mutating(w.Events()))
	_, hr = probe(t, srv, "/health")
	assert.Equal(t, StateUnhealthy, hr.ApplicationHealthState)
	assert.Equal(t, []string{"bot-8016: port 8016 does not accept TCP connections"}, hr.Details)
	w.portDown[8016] = false
	m.Tick(ctx)
	_, hr = probe(t, srv, "/health")
	assert.Equal(t, StateHealthy, hr.ApplicationHealthState)

	// A container removed outright is recreated at once.
	delete(w.containers, "bot-8014")
	m.Tick(ctx)
	_, hr = probe(t, srv, "/health")
	assert.Equal(t, StateHealthy, hr.ApplicationHealthState)
}

func TestHealthUnhealthyWhenImageIsNotTheDesiredOne(t *testing.T) {
	w := newWorld()
	d := testDesired(t, imgV1)
	m, srv := newTestMonitor(t, w, &d)
	_, err := m.Agent.Apply(context.Background(), d)
	require.NoError(t, err)

	d.Image = imgV2 // the script asked for v2; apply has not rolled it yet
	m.Tick(context.Background())
	_, hr := probe(t, srv, "/health")
	assert.Equal(t, StateUnhealthy, hr.ApplicationHealthState)
	assert.Len(t, hr.Details, 3)
	assert.Contains(t, hr.Details[0], "runs image "+imgV1+", want "+imgV2)
}

func TestHealthEndpointServesTheCachedStatus(t *testing.T) {
	w := newWorld()
	d := testDesired(t, imgV1)
	m, srv := newTestMonitor(t, w, &d)

	_, hr := probe(t, srv, "/health")
	assert.Equal(t, HealthResponse{ApplicationHealthState: StateUnhealthy, Details: []string{"no check has completed yet"}}, hr)

	_, err := m.Agent.Apply(context.Background(), d)
	require.NoError(t, err)
	m.Tick(context.Background())
	w.Reset()
	for range 5 {
		_, hr = probe(t, srv, "/health")
		assert.Equal(t, StateHealthy, hr.ApplicationHealthState)
	}
	assert.Empty(t, w.Events(), "probes must not run docker or dial bots")

	code, _ := probe(t, srv, "/other")
	assert.Equal(t, http.StatusNotFound, code)
	resp, err := srv.Client().Post(srv.URL+"/health", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// A check loop that stopped turning is not trusted.
	w.advance(91 * time.Second)
	_, hr = probe(t, srv, "/health")
	assert.Equal(t, StateUnhealthy, hr.ApplicationHealthState)
	assert.Contains(t, hr.Details[0], "stale")
}

func TestHealthUnreadableDesiredStateKeepsLastButIsUnhealthy(t *testing.T) {
	w := newWorld()
	d := testDesired(t, imgV1)
	m, srv := newTestMonitor(t, w, &d)
	_, err := m.Agent.Apply(context.Background(), d)
	require.NoError(t, err)
	m.Tick(context.Background())

	m.Load = func(string) (Desired, error) {
		return Desired{}, errors.New("desired state x.json: image: \"\" is empty")
	}
	delete(w.containers, "bot-8014")
	m.Tick(context.Background())
	_, hr := probe(t, srv, "/health")
	assert.Equal(t, StateUnhealthy, hr.ApplicationHealthState)
	assert.Equal(t, []string{"desired state x.json: image: \"\" is empty"}, hr.Details)
	_, ok := w.container("bot-8014")
	assert.True(t, ok, "repairs go on with the last valid desired state")
}

func TestHealthHostNotInPlan(t *testing.T) {
	w := newWorld()
	d := testDesired(t, imgV1)
	m, srv := newTestMonitor(t, w, &d)
	m.Agent.Addrs = StaticAddrs("192.168.7.9")
	m.Tick(context.Background())
	_, hr := probe(t, srv, "/health")
	assert.Equal(t, StateUnhealthy, hr.ApplicationHealthState)
	assert.Contains(t, hr.Details[0], "this VM is not in the plan")
}
