package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/botpool/botpool/addressplan"
	"github.com/stretchr/testify/require"
)

// world is a fake VM: its containers, its ports, its clock, and an ordered log of every
// side effect, so the tests assert orderings from the log.
type world struct {
	mu         sync.Mutex
	now        time.Time
	events     []string
	containers map[string]*fakeContainer
	pullErr    map[string]error // image -> error
	deadImages map[string]bool  // containers of these images never answer
	portDown   map[int]bool     // ports forced not to answer
	envFile    string           // content of the env file
	onSleep    func(now time.Time)
}

type fakeContainer struct {
	Container
	port int
}

const (
	imgV1 = "myreg.azurecr.io/meeting-bot:v1.4.1"
	imgV2 = "myreg.azurecr.io/meeting-bot:v1.4.2"
)

func newWorld() *world {
	return &world{
		now:        time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC),
		containers: map[string]*fakeContainer{},
		pullErr:    map[string]error{},
		deadImages: map[string]bool{},
		portDown:   map[int]bool{},
		envFile:    "MEETING_API=https://example\n",
	}
}

func (w *world) record(format string, args ...any) {
	w.events = append(w.events, fmt.Sprintf(format, args...))
}

// Events is the log so far; Reset clears it.
func (w *world) Events() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

func (w *world) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = nil
}

// mutating lists the events that change containers or images.
func mutating(events []string) []string {
	var out []string
	for _, e := range events {
		if !strings.HasPrefix(e, "list") && !strings.HasPrefix(e, "answers") {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) container(name string) (Container, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.containers[name]
	if !ok {
		return Container{}, false
	}
	return c.Container, true
}

// exit makes a container stop as if its process died and Docker gave up restarting it.
func (w *world) exit(name string, code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.containers[name]
	c.State, c.ExitCode, c.FinishedAt = "exited", code, w.now
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

type fakeDocker struct{ w *world }

func (f fakeDocker) Pull(_ context.Context, image string) error {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("pull %s", image)
	return w.pullErr[image]
}

func (f fakeDocker) List(_ context.Context, prefix string) ([]Container, error) {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("list %s", prefix)
	var out []Container
	for _, c := range w.containers {
		if strings.HasPrefix(c.Name, prefix) {
			out = append(out, c.Container)
		}
	}
	slices.SortFunc(out, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f fakeDocker) Run(_ context.Context, s RunSpec) error {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("run %s %s", s.Name, s.Image)
	if _, ok := w.containers[s.Name]; ok {
		return fmt.Errorf("Conflict. The container name %q is already in use", "/"+s.Name)
	}
	for _, c := range w.containers {
		if c.port == s.HostPort && c.State == "running" {
			return fmt.Errorf("port %d is already allocated by %s", s.HostPort, c.Name)
		}
	}
	w.containers[s.Name] = &fakeContainer{Container{Name: s.Name, Image: s.Image, SpecHash: s.SpecHash, State: "running"}, s.HostPort}
	return nil
}

func (f fakeDocker) Stop(_ context.Context, name string, _ time.Duration) error {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("stop %s", name)
	if c, ok := w.containers[name]; ok {
		c.State, c.FinishedAt = "exited", w.now
	}
	return nil
}

func (f fakeDocker) Remove(_ context.Context, name string) error {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("remove %s", name)
	delete(w.containers, name)
	return nil
}

type fakePorts struct{ w *world }

func (f fakePorts) Answers(_ context.Context, port int) bool {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.portDown[port] {
		return false
	}
	for _, c := range w.containers {
		if c.port == port && c.State == "running" && !w.deadImages[c.Image] {
			w.record("answers %s", c.Name)
			return true
		}
	}
	return false
}

type fakeClock struct{ w *world }

func (f fakeClock) Now() time.Time {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	return f.w.now
}

func (f fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.w.mu.Lock()
	f.w.now = f.w.now.Add(d)
	now, hook := f.w.now, f.w.onSleep
	f.w.mu.Unlock()
	if hook != nil {
		hook(now)
	}
	return ctx.Err()
}

type fakeDrainer struct{ w *world }

func (f fakeDrainer) Drain(_ context.Context, port int, path string, timeout time.Duration) error {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.record("drain %d %s %s", port, path, timeout)
	return nil
}

type busyLock struct{}

func (busyLock) TryLock() (func(), bool, error) { return nil, false, nil }

// Test layout: a /29 has three usable addresses; this VM is 10.0.0.5, ordinal 1, whose
// bots are on ports 8014..8016. Port 8017 belongs to ordinal 2.
const thisVM = "10.0.0.5"

var runArgs = []string{"--restart", "always", "--isolation", "process", "--device", "class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"}

func testPlan(t testing.TB) addressplan.Plan {
	t.Helper()
	p, err := addressplan.Build(addressplan.Layout{
		Subnet: netip.MustParsePrefix("10.0.0.0/29"), BasePort: 8011, SlotsPerVM: 3, ContainerPort: 443,
	}, runArgs)
	require.NoError(t, err)
	return p
}

func testDesired(t testing.TB, image string) Desired {
	return Desired{
		Plan:    testPlan(t),
		Image:   image,
		EnvFile: `C:\botpool\bot.env`,
		Health:  HealthConfig{Port: 8000, Path: "/health"},
	}
}

type testLogWriter struct{ t testing.TB }

func (l testLogWriter) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newTestAgent(t testing.TB, w *world) *Agent {
	return &Agent{
		Docker:  fakeDocker{w},
		Ports:   fakePorts{w},
		Drainer: fakeDrainer{w},
		Clock:   fakeClock{w},
		Addrs:   StaticAddrs("127.0.0.1", "::1", thisVM, "172.17.0.1"),
		ReadFile: func(string) ([]byte, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return []byte(w.envFile), nil
		},
		Log:          slog.New(slog.NewTextHandler(testLogWriter{t}, nil)),
		ReadyTimeout: time.Minute,
		PollInterval: time.Second,
		StopTimeout:  10 * time.Second,
		RepairGrace:  time.Minute,
	}
}

// seed starts the host's bots on image as a previous apply would have.
func seed(t testing.TB, w *world, a *Agent, image string) {
	t.Helper()
	d := testDesired(t, image)
	h, err := a.Host(d)
	require.NoError(t, err)
	specs, err := a.Specs(d, h)
	require.NoError(t, err)
	for _, s := range specs {
		require.NoError(t, a.Docker.Run(context.Background(), s))
	}
	w.Reset()
}

func indexOf(t testing.TB, events []string, e string) int {
	t.Helper()
	i := slices.Index(events, e)
	require.GreaterOrEqual(t, i, 0, "event %q not in %q", e, events)
	return i
}
