package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var thisVMBots = []string{"bot-8014", "bot-8015", "bot-8016"}

func TestApplyFreshVMStartsEveryBot(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)

	st, err := a.Apply(context.Background(), testDesired(t, imgV1))
	require.NoError(t, err)
	assert.True(t, st.Healthy)
	assert.Equal(t, thisVM, st.Host)
	assert.Equal(t, []string{
		"pull " + imgV1,
		"run bot-8014 " + imgV1,
		"run bot-8015 " + imgV1,
		"run bot-8016 " + imgV1,
	}, mutating(w.Events()))
}

func TestApplyRollingUpgrade(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	seed(t, w, a, imgV1)

	st, err := a.Apply(context.Background(), testDesired(t, imgV2))
	require.NoError(t, err)
	assert.True(t, st.Healthy, st.Summary())

	ev := w.Events()
	// The pull comes before any container is touched.
	pull := indexOf(t, ev, "pull "+imgV2)
	for _, e := range mutating(ev)[1:] {
		assert.Greater(t, indexOf(t, ev, e), pull, "%q before the pull", e)
	}
	assert.Equal(t, []string{
		"pull " + imgV2,
		"stop bot-8014", "remove bot-8014", "run bot-8014 " + imgV2,
		"stop bot-8015", "remove bot-8015", "run bot-8015 " + imgV2,
		"stop bot-8016", "remove bot-8016", "run bot-8016 " + imgV2,
	}, mutating(ev))
	// One at a time: each new container answers before the next old one stops.
	for i, name := range thisVMBots {
		run := indexOf(t, ev, "run "+name+" "+imgV2)
		answered := run + indexOf(t, ev[run:], "answers "+name)
		if i+1 < len(thisVMBots) {
			assert.Less(t, answered, indexOf(t, ev, "stop "+thisVMBots[i+1]),
				"%s must answer before %s stops", name, thisVMBots[i+1])
		}
	}
	for _, name := range thisVMBots {
		c, ok := w.container(name)
		require.True(t, ok)
		assert.Equal(t, imgV2, c.Image)
		assert.True(t, c.Running())
	}
}

func TestApplyFailedPullLeavesOldContainersRunning(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	seed(t, w, a, imgV1)
	w.pullErr[imgV2] = errors.New("docker pull: manifest for myreg.azurecr.io/meeting-bot:v1.4.2 not found: manifest unknown")

	st, err := a.Apply(context.Background(), testDesired(t, imgV2))
	var nc *NotConvergedError
	require.ErrorAs(t, err, &nc)
	assert.False(t, st.Healthy)
	assert.Contains(t, err.Error(), "pull of "+imgV2+" failed, no container was touched")
	assert.Contains(t, err.Error(), "manifest unknown")
	assert.Contains(t, err.Error(), "bot-8014: runs image "+imgV1+", want "+imgV2)
	assert.Equal(t, []string{"pull " + imgV2}, mutating(w.Events()))
	for _, name := range thisVMBots {
		c, ok := w.container(name)
		require.True(t, ok)
		assert.Equal(t, imgV1, c.Image)
		assert.True(t, c.Running())
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	d := testDesired(t, imgV2)
	_, err := a.Apply(context.Background(), d)
	require.NoError(t, err)
	w.Reset()

	st, err := a.Apply(context.Background(), d)
	require.NoError(t, err)
	assert.True(t, st.Healthy)
	assert.Empty(t, mutating(w.Events()), "a converged VM needs no docker call beyond list")
	assert.Contains(t, w.Events(), "list bot-")
}

func TestApplyStopsRolloutWhenNewContainerDoesNotAnswer(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	seed(t, w, a, imgV1)
	w.deadImages[imgV2] = true // starts, never listens

	_, err := a.Apply(context.Background(), testDesired(t, imgV2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bot-8014 (image "+imgV2+") did not answer on port 8014 within 1m0s")
	assert.Contains(t, err.Error(), "rollout stopped after 0 of 3 containers; left untouched: bot-8015, bot-8016")
	assert.Equal(t, []string{
		"pull " + imgV2, "stop bot-8014", "remove bot-8014", "run bot-8014 " + imgV2,
	}, mutating(w.Events()))
	for _, name := range thisVMBots[1:] {
		c, _ := w.container(name)
		assert.Equal(t, imgV1, c.Image, name)
		assert.True(t, c.Running(), name)
	}
}

func TestApplyTimeoutMessageNamesWhatDidNotConverge(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	a.ReadyTimeout = time.Hour // the apply deadline comes first
	seed(t, w, a, imgV1)
	w.deadImages[imgV2] = true
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	deadline := w.now.Add(20 * time.Minute)
	w.onSleep = func(now time.Time) {
		if !now.Before(deadline) {
			cancel(fmt.Errorf("apply timed out after %s", 20*time.Minute))
		}
	}

	_, err := a.Apply(ctx, testDesired(t, imgV2))
	require.Error(t, err)
	assert.Equal(t, "not converged: apply timed out after 20m0s: bot-8014 (image "+imgV2+") did not answer on port 8014 before the apply deadline; "+
		"rollout stopped after 0 of 3 containers; left untouched: bot-8015, bot-8016; "+
		"still wrong: bot-8014: port 8014 does not accept TCP connections; "+
		"bot-8015: runs image "+imgV1+", want "+imgV2+"; bot-8016: runs image "+imgV1+", want "+imgV2, err.Error())
}

func TestApplyDrain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		drain  *DrainConfig
		drains []string
	}{
		{name: "not configured"},
		{name: "configured", drain: &DrainConfig{Path: "/api/drain", TimeoutSeconds: 300},
			drains: []string{"drain 8014 /api/drain 5m0s", "drain 8015 /api/drain 5m0s", "drain 8016 /api/drain 5m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			a := newTestAgent(t, w)
			seed(t, w, a, imgV1)
			d := testDesired(t, imgV2)
			d.Drain = tc.drain

			_, err := a.Apply(context.Background(), d)
			require.NoError(t, err)
			ev := w.Events()
			var drains []string
			for _, e := range ev {
				if len(e) > 5 && e[:5] == "drain" {
					drains = append(drains, e)
				}
			}
			assert.Equal(t, tc.drains, drains)
			for i, dr := range tc.drains {
				assert.Less(t, indexOf(t, ev, dr), indexOf(t, ev, "stop "+thisVMBots[i]), "drain before stop")
			}
		})
	}
}

func TestApplyHostNotInPlan(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	a.Addrs = StaticAddrs("127.0.0.1", "192.168.7.9")

	_, err := a.Apply(context.Background(), testDesired(t, imgV1))
	require.Error(t, err)
	assert.Equal(t, "not converged: this VM is not in the plan: none of its IPv4 addresses [192.168.7.9] is a privateIp of plan.hosts (subnet 10.0.0.0/29, 3 hosts)", err.Error())
	assert.Empty(t, w.Events(), "nothing is touched on a VM the plan does not know")
}

func TestApplyRemovesStrays(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	seed(t, w, a, imgV1)
	// bot-8017 is ordinal 2's port: left behind, say, by a shrink of slots per VM.
	w.containers["bot-8017"] = &fakeContainer{Container{Name: "bot-8017", Image: imgV1, State: "running"}, 8017}
	w.containers["other"] = &fakeContainer{Container{Name: "other", Image: "nginx", State: "running"}, 80}

	st, err := a.Apply(context.Background(), testDesired(t, imgV1))
	require.NoError(t, err)
	assert.Empty(t, st.Strays)
	assert.Equal(t, []string{"stop bot-8017", "remove bot-8017"}, mutating(w.Events()), "bots are up to date: no pull; the stray goes; non-bot containers are not ours")
	_, ok := w.container("other")
	assert.True(t, ok)
}

func TestApplyRollsWhenEnvFileChanges(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	seed(t, w, a, imgV1)
	w.envFile = "MEETING_API=https://rotated\n"

	_, err := a.Apply(context.Background(), testDesired(t, imgV1))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"pull " + imgV1,
		"stop bot-8014", "remove bot-8014", "run bot-8014 " + imgV1,
		"stop bot-8015", "remove bot-8015", "run bot-8015 " + imgV1,
		"stop bot-8016", "remove bot-8016", "run bot-8016 " + imgV1,
	}, mutating(w.Events()))
}

func TestApplyWaitsForLock(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	a.Lock = busyLock{}
	ctx, cancel := context.WithCancelCause(context.Background())
	w.onSleep = func(time.Time) { cancel(errors.New("apply timed out after 20m0s")) }

	_, err := a.Apply(ctx, testDesired(t, imgV1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "waiting for another botagent to release the agent lock: apply timed out after 20m0s")
	assert.Empty(t, w.Events())
}

func TestRepair(t *testing.T) {
	for _, tc := range []struct {
		name    string
		break_  func(w *world)
		advance time.Duration
		want    []string
	}{
		{name: "healthy VM: nothing to do", break_: func(*world) {}},
		{name: "missing container is recreated", break_: func(w *world) { delete(w.containers, "bot-8015") },
			want: []string{"run bot-8015 " + imgV1}},
		{name: "exited container is left to Docker within the grace period", break_: func(w *world) { w.exit("bot-8015", 3) },
			advance: 30 * time.Second},
		{name: "exited container not back after the grace period is recreated", break_: func(w *world) { w.exit("bot-8015", 3) },
			advance: time.Minute, want: []string{"remove bot-8015", "run bot-8015 " + imgV1}},
		{name: "running container with an old image is left to apply", break_: func(w *world) { w.containers["bot-8015"].Image = "old" }},
		{name: "stray is removed", break_: func(w *world) {
			w.containers["bot-8020"] = &fakeContainer{Container{Name: "bot-8020", State: "exited"}, 8020}
		}, want: []string{"remove bot-8020"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			a := newTestAgent(t, w)
			seed(t, w, a, imgV1)
			tc.break_(w)
			w.advance(tc.advance)

			_, err := a.Repair(context.Background(), testDesired(t, imgV1))
			require.NoError(t, err)
			assert.Equal(t, tc.want, mutating(w.Events()))
		})
	}
}

func TestRepairSkipsWhileApplyHoldsTheLock(t *testing.T) {
	w := newWorld()
	a := newTestAgent(t, w)
	a.Lock = busyLock{}
	actions, err := a.Repair(context.Background(), testDesired(t, imgV1))
	require.NoError(t, err)
	assert.Empty(t, actions)
	assert.Empty(t, w.Events())
}
