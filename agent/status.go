package agent

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Status is the VM's state against the desired state: what `check` prints and what the
// health endpoint serves (from the last periodic check).
type Status struct {
	Healthy   bool        `json:"healthy"`
	Host      string      `json:"host,omitempty"`
	Image     string      `json:"image,omitempty"`
	CheckedAt time.Time   `json:"checkedAt"`
	Bots      []BotStatus `json:"bots,omitempty"`
	Strays    []string    `json:"strays,omitempty"`
	// Problems lists, one line each, why the VM is not healthy.
	Problems []string `json:"problems,omitempty"`
}

// BotStatus is one expected bot container.
type BotStatus struct {
	Name      string `json:"name"`
	Port      int    `json:"port"`
	State     string `json:"state"` // docker state, or "missing"
	Image     string `json:"image,omitempty"`
	UpToDate  bool   `json:"upToDate"` // started from the desired image and settings
	Answering bool   `json:"answering"`
	Problem   string `json:"problem,omitempty"`
}

// Summary is a one-line account of a status.
func (s Status) Summary() string {
	if s.Healthy {
		return fmt.Sprintf("healthy: %d bot containers on %s answering", len(s.Bots), s.Image)
	}
	return "unhealthy: " + strings.Join(s.Problems, "; ")
}

func unhealthy(now time.Time, problem string) Status {
	return Status{CheckedAt: now, Problems: []string{problem}}
}

// Check reports, without changing anything, whether every expected bot container runs
// the desired image and settings and its host port accepts a TCP connection.
func (a *Agent) Check(ctx context.Context, d Desired) Status {
	now := a.Clock.Now()
	h, err := a.Host(d)
	if err != nil {
		return unhealthy(now, err.Error())
	}
	specs, err := a.Specs(d, h)
	if err != nil {
		return unhealthy(now, err.Error())
	}
	cs, err := a.Docker.List(ctx, NamePrefix)
	if err != nil {
		return unhealthy(now, "list containers: "+err.Error())
	}
	st := a.status(ctx, now, h.PrivateIP, d.Image, specs, cs)
	return st
}

func (a *Agent) status(ctx context.Context, now time.Time, host, image string, specs []RunSpec, cs []Container) Status {
	byName, strays := plannedAndStrays(cs, specs)
	st := Status{Healthy: true, Host: host, Image: image, CheckedAt: now}
	for _, s := range specs {
		b := BotStatus{Name: s.Name, Port: s.HostPort, State: "missing"}
		c, ok := byName[s.Name]
		switch {
		case !ok:
			b.Problem = "container missing"
		default:
			b.State, b.Image, b.UpToDate = c.State, c.Image, upToDate(c, s)
			switch {
			case !c.Running():
				b.Problem = describeDown(c)
			case c.Image != s.Image:
				b.Problem = fmt.Sprintf("runs image %s, want %s", c.Image, s.Image)
			case !b.UpToDate:
				b.Problem = "started with other settings (plan run args, ports or env file changed since)"
			default:
				b.Answering = a.Ports.Answers(ctx, s.HostPort)
				if !b.Answering {
					b.Problem = fmt.Sprintf("port %d does not accept TCP connections", s.HostPort)
				}
			}
		}
		if b.Problem != "" {
			st.Healthy = false
			st.Problems = append(st.Problems, s.Name+": "+b.Problem)
		}
		st.Bots = append(st.Bots, b)
	}
	for _, c := range strays {
		st.Strays = append(st.Strays, c.Name)
	}
	return st
}

func describeDown(c Container) string {
	switch c.State {
	case "exited", "dead":
		return fmt.Sprintf("%s with code %d", c.State, c.ExitCode)
	case "":
		return "not running"
	default:
		return c.State + ", not running"
	}
}
