package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NotConvergedError is Apply's failure: why it stopped, and the state it left.
type NotConvergedError struct {
	Reason string
	Status Status
}

func (e *NotConvergedError) Error() string {
	msg := "not converged: " + e.Reason
	if len(e.Status.Problems) > 0 {
		msg += "; still wrong: " + strings.Join(e.Status.Problems, "; ")
	}
	return msg
}

// Apply converges the VM to d once: it pulls the image first, then replaces the bot
// containers that are not up to date one at a time — drain (if configured), stop and
// remove the old one, run the new one, wait until its port answers — and finally removes
// bot containers the plan does not expect here. A container that never answers stops the
// rollout, leaving the remaining bots untouched. Apply returns the final status, and a
// *NotConvergedError unless every expected container runs the image and answers.
func (a *Agent) Apply(ctx context.Context, d Desired) (Status, error) {
	var st Status
	err := a.withLock(ctx, func() error {
		var err error
		st, err = a.apply(ctx, d)
		return err
	})
	if err != nil {
		var nc *NotConvergedError
		if !errors.As(err, &nc) {
			nc = &NotConvergedError{Reason: err.Error(), Status: Status{CheckedAt: a.Clock.Now()}}
			err = nc
		}
		st = nc.Status
	}
	return st, err
}

// finalCheck reports the state left behind even when ctx has expired.
func (a *Agent) finalCheck(ctx context.Context, d Desired) Status {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return a.Check(ctx, d)
}

func (a *Agent) fail(ctx context.Context, d Desired, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if ctx.Err() != nil {
		reason = fmt.Sprintf("%v: %s", context.Cause(ctx), reason)
	}
	a.log().Error("apply failed", "reason", reason)
	return &NotConvergedError{Reason: reason, Status: a.finalCheck(ctx, d)}
}

func (a *Agent) apply(ctx context.Context, d Desired) (Status, error) {
	log := a.log()
	h, err := a.Host(d)
	if err != nil {
		return Status{}, err
	}
	specs, err := a.Specs(d, h)
	if err != nil {
		return Status{}, err
	}
	cs, err := a.Docker.List(ctx, NamePrefix)
	if err != nil {
		return Status{}, fmt.Errorf("list containers: %w", err)
	}
	byName, strays := plannedAndStrays(cs, specs)

	var todo []RunSpec
	for _, s := range specs {
		if c, ok := byName[s.Name]; !ok || !c.Running() || !upToDate(c, s) {
			todo = append(todo, s)
		}
	}
	log.Info("apply", "host", hostLabel(h), "image", d.Image, "bots", len(specs), "toReplace", len(todo), "strays", len(strays))

	if len(todo) > 0 {
		// Pull before touching anything: a bad tag or registry outage leaves every old
		// container running.
		log.Info("pulling image", "image", d.Image)
		if err := a.Docker.Pull(ctx, d.Image); err != nil {
			return Status{}, a.fail(ctx, d, "pull of %s failed, no container was touched: %v", d.Image, err)
		}
	}
	for i, s := range todo {
		var old *Container
		if c, ok := byName[s.Name]; ok {
			old = &c
		}
		if err := a.replace(ctx, d, s, old, "apply"); err != nil {
			return Status{}, a.fail(ctx, d, "%v; rollout stopped after %d of %d containers%s", err, i, len(todo), untouched(todo[i+1:]))
		}
		if !a.waitAnswer(ctx, s.HostPort) {
			within := "within " + a.readyTimeout().String()
			if ctx.Err() != nil {
				within = "before the apply deadline"
			}
			return Status{}, a.fail(ctx, d, "%s (image %s) did not answer on port %d %s; rollout stopped after %d of %d containers%s",
				s.Name, s.Image, s.HostPort, within, i, len(todo), untouched(todo[i+1:]))
		}
		log.Info("container answers", "container", s.Name, "port", s.HostPort, "image", s.Image)
	}
	for _, c := range strays {
		if err := a.removeStray(ctx, d, c); err != nil {
			return Status{}, a.fail(ctx, d, "%v", err)
		}
	}

	// Every container was checked when it started; confirm all still answer (and wait
	// for ones that were already running but not answering yet).
	deadline := a.Clock.Now().Add(a.readyTimeout())
	for {
		st := a.Check(ctx, d)
		if st.Healthy {
			log.Info("converged", "host", hostLabel(h), "image", d.Image, "bots", len(specs))
			return st, nil
		}
		if !a.Clock.Now().Before(deadline) {
			return st, &NotConvergedError{Reason: fmt.Sprintf("containers not all answering %s after the rollout", a.readyTimeout()), Status: st}
		}
		if err := a.Clock.Sleep(ctx, a.pollInterval()); err != nil {
			return st, &NotConvergedError{Reason: fmt.Sprintf("%v while waiting for every container to answer", context.Cause(ctx)), Status: a.finalCheck(ctx, d)}
		}
	}
}

func untouched(rest []RunSpec) string {
	if len(rest) == 0 {
		return ""
	}
	names := make([]string, len(rest))
	for i, s := range rest {
		names[i] = s.Name
	}
	return "; left untouched: " + strings.Join(names, ", ")
}

// replace swaps old (nil if absent) for a new container from s. The host port can only
// be bound once, so the old container goes first: its bot is down only for this restart.
func (a *Agent) replace(ctx context.Context, d Desired, s RunSpec, old *Container, why string) error {
	log := a.log()
	if old != nil {
		if err := a.retire(ctx, d, *old, s.HostPort); err != nil {
			return err
		}
	}
	log.Info("starting container", "container", s.Name, "image", s.Image, "port", s.HostPort, "reason", why)
	if err := a.Docker.Run(ctx, s); err != nil {
		return fmt.Errorf("docker run of %s (image %s, port %d) failed: %w", s.Name, s.Image, s.HostPort, err)
	}
	return nil
}

// retire drains (when configured and the container runs), stops and removes c.
func (a *Agent) retire(ctx context.Context, d Desired, c Container, port int) error {
	log := a.log()
	if c.State == "running" || c.State == "restarting" || c.State == "paused" {
		if d.Drain != nil && c.Running() && port > 0 {
			timeout := time.Duration(d.Drain.TimeoutSeconds) * time.Second
			log.Info("draining container", "container", c.Name, "port", port, "path", d.Drain.Path, "timeout", timeout)
			if err := a.Drainer.Drain(ctx, port, d.Drain.Path, timeout); err != nil {
				log.Warn("drain did not complete; stopping anyway", "container", c.Name, "error", err)
			}
		}
		log.Info("stopping container", "container", c.Name, "image", c.Image)
		if err := a.Docker.Stop(ctx, c.Name, a.stopTimeout()); err != nil {
			log.Warn("stop failed; removing by force", "container", c.Name, "error", err)
		}
	}
	log.Info("removing container", "container", c.Name, "state", c.State)
	if err := a.Docker.Remove(ctx, c.Name); err != nil {
		return fmt.Errorf("remove %s: %w", c.Name, err)
	}
	return nil
}

func (a *Agent) removeStray(ctx context.Context, d Desired, c Container) error {
	a.log().Info("removing container not in this host's plan", "container", c.Name, "image", c.Image, "state", c.State)
	return a.retire(ctx, d, c, portOf(c.Name))
}

// portOf reads the host port back from a bot container name (0 if it has none).
func portOf(name string) int {
	var p int
	if _, err := fmt.Sscanf(name, NamePrefix+"%d", &p); err != nil || fmt.Sprintf("%s%d", NamePrefix, p) != name {
		return 0
	}
	return p
}

// waitAnswer polls the port until it accepts a connection, ReadyTimeout passes or ctx
// is done.
func (a *Agent) waitAnswer(ctx context.Context, port int) bool {
	deadline := a.Clock.Now().Add(a.readyTimeout())
	for {
		if a.Ports.Answers(ctx, port) {
			return true
		}
		if !a.Clock.Now().Before(deadline) {
			return false
		}
		if a.Clock.Sleep(ctx, a.pollInterval()) != nil {
			return false
		}
	}
}

// Repair is the periodic fix-up: it recreates expected containers that are missing or
// have been down longer than RepairGrace (Docker's restart policy did not bring them
// back), and removes bot containers the plan does not expect on this host. It does not
// roll containers that run but are out of date: that is Apply's job, with its pull-first
// ordering. When an apply holds the lock, Repair does nothing and says so.
func (a *Agent) Repair(ctx context.Context, d Desired) (actions []string, err error) {
	unlock, ok, err := a.locker().TryLock()
	if err != nil {
		return nil, fmt.Errorf("take the agent lock: %w", err)
	}
	if !ok {
		a.log().Info("repair skipped: another botagent (apply) is changing containers")
		return nil, nil
	}
	defer unlock()

	h, err := a.Host(d)
	if err != nil {
		return nil, err
	}
	specs, err := a.Specs(d, h)
	if err != nil {
		return nil, err
	}
	cs, err := a.Docker.List(ctx, NamePrefix)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	byName, strays := plannedAndStrays(cs, specs)
	now := a.Clock.Now()
	var errs []error
	for _, s := range specs {
		c, ok := byName[s.Name]
		var reason string
		var old *Container
		switch {
		case !ok:
			reason = "missing"
		case exitedFor(c, now, a.repairGrace()):
			reason = fmt.Sprintf("%s (exit code %d) and not restarted by Docker", c.State, c.ExitCode)
			if !c.FinishedAt.IsZero() {
				reason += fmt.Sprintf(" for %s", now.Sub(c.FinishedAt).Round(time.Second))
			}
			old = &c
		default:
			continue
		}
		a.log().Warn("repairing container", "container", s.Name, "reason", reason)
		if err := a.replace(ctx, d, s, old, "repair: "+reason); err != nil {
			errs = append(errs, err)
			continue
		}
		actions = append(actions, fmt.Sprintf("recreated %s (%s)", s.Name, reason))
	}
	for _, c := range strays {
		if err := a.removeStray(ctx, d, c); err != nil {
			errs = append(errs, err)
			continue
		}
		actions = append(actions, fmt.Sprintf("removed %s (not in this host's plan)", c.Name))
	}
	return actions, errors.Join(errs...)
}
