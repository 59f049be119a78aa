package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// SpecLabel is the container label holding the hash of everything a bot container was
// started with (image, ports, run args, env file and its content). A container whose
// label differs from the desired spec's is replaced, so changed run args or rotated
// secrets roll out like a new tag.
const SpecLabel = "botpool.spec"

// Container is what the agent needs to know about one existing container.
type Container struct {
	Name       string
	Image      string // the reference it was created from, e.g. myreg.azurecr.io/meeting-bot:v1.4.2
	SpecHash   string // value of SpecLabel, "" when absent
	State      string // created, running, restarting, paused, exited, dead, removing
	ExitCode   int
	FinishedAt time.Time // zero if it never stopped
}

// Running is true for a container whose process is up.
func (c Container) Running() bool { return c.State == "running" }

// RunSpec is one bot container to start.
type RunSpec struct {
	Name          string
	Image         string
	HostPort      int
	ContainerPort int
	RunArgs       []string
	EnvFile       string
	SpecHash      string
}

// Args is the docker CLI argument list for the spec:
// run -d --name N -p H:C --label botpool.spec=X <runArgs...> [--env-file E] IMAGE.
func (s RunSpec) Args() []string {
	a := []string{"run", "-d", "--name", s.Name,
		"-p", strconv.Itoa(s.HostPort) + ":" + strconv.Itoa(s.ContainerPort),
		"--label", SpecLabel + "=" + s.SpecHash}
	a = append(a, s.RunArgs...)
	if s.EnvFile != "" {
		a = append(a, "--env-file", s.EnvFile)
	}
	return append(a, s.Image)
}

// Docker is the part of the Docker engine the agent uses.
type Docker interface {
	Pull(ctx context.Context, image string) error
	// List returns every container (running or not) whose name starts with namePrefix.
	List(ctx context.Context, namePrefix string) ([]Container, error)
	Run(ctx context.Context, spec RunSpec) error
	Stop(ctx context.Context, name string, timeout time.Duration) error
	// Remove removes a container, forcing it if it still runs.
	Remove(ctx context.Context, name string) error
}

// ExecFunc runs the docker CLI with args and returns its standard output.
type ExecFunc func(ctx context.Context, args ...string) ([]byte, error)

// DockerCLI implements Docker by running the docker CLI.
type DockerCLI struct {
	// Exec runs docker; nil means os/exec of "docker" from PATH.
	Exec ExecFunc
}

func (d DockerCLI) run(ctx context.Context, args ...string) ([]byte, error) {
	if d.Exec != nil {
		return d.Exec(ctx, args...)
	}
	return ExecDocker(ctx, args...)
}

// ExecDocker runs `docker args...`; a failure carries docker's own error text.
func ExecDocker(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		if ctx.Err() != nil {
			msg += " (" + ctx.Err().Error() + ")"
		}
		return stdout.Bytes(), fmt.Errorf("docker %s: %s", args[0], oneLine(msg))
	}
	return stdout.Bytes(), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Pull implements Docker.
func (d DockerCLI) Pull(ctx context.Context, image string) error {
	_, err := d.run(ctx, "pull", "-q", image)
	return err
}

// Run implements Docker.
func (d DockerCLI) Run(ctx context.Context, spec RunSpec) error {
	_, err := d.run(ctx, spec.Args()...)
	return err
}

// Stop implements Docker.
func (d DockerCLI) Stop(ctx context.Context, name string, timeout time.Duration) error {
	_, err := d.run(ctx, "stop", "-t", strconv.Itoa(int(timeout/time.Second)), name)
	return err
}

// Remove implements Docker.
func (d DockerCLI) Remove(ctx context.Context, name string) error {
	_, err := d.run(ctx, "rm", "-f", name)
	return err
}

// List implements Docker: `docker ps` for the names, `docker inspect` for the details.
// A container removed between the two calls makes inspect fail; List then tries again.
func (d DockerCLI) List(ctx context.Context, namePrefix string) ([]Container, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var cs []Container
		if cs, err = d.list(ctx, namePrefix); err == nil {
			return cs, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func (d DockerCLI) list(ctx context.Context, namePrefix string) ([]Container, error) {
	out, err := d.run(ctx, "ps", "-a", "--no-trunc", "--filter", "name="+namePrefix, "--format", "{{.Names}}")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range strings.Fields(string(out)) {
		if strings.HasPrefix(n, namePrefix) { // the name filter matches substrings
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	out, err = d.run(ctx, append([]string{"inspect", "--type", "container"}, names...)...)
	if err != nil {
		return nil, err
	}
	return parseInspect(out)
}

type inspectJSON struct {
	Name   string
	Config struct {
		Image  string
		Labels map[string]string
	}
	State struct {
		Status     string
		ExitCode   int
		FinishedAt string
	}
}

func parseInspect(b []byte) ([]Container, error) {
	var raw []inspectJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("docker inspect: unreadable output: %w", err)
	}
	cs := make([]Container, 0, len(raw))
	for _, r := range raw {
		c := Container{
			Name:     strings.TrimPrefix(r.Name, "/"),
			Image:    r.Config.Image,
			SpecHash: r.Config.Labels[SpecLabel],
			State:    r.State.Status,
			ExitCode: r.State.ExitCode,
		}
		if t, err := time.Parse(time.RFC3339Nano, r.State.FinishedAt); err == nil && t.Year() > 1 {
			c.FinishedAt = t
		}
		if c.Name == "" {
			return nil, errors.New("docker inspect: a container without a name")
		}
		cs = append(cs, c)
	}
	return cs, nil
}
