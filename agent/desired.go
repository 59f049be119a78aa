package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/botpool/botpool/addressplan"
)

// Desired is what the bot-host script asks of one VM: the whole address plan (the agent
// picks its own host by private IP), the image every bot container runs, and the agent's
// own endpoints. It travels as JSON; field names are a contract with the script.
type Desired struct {
	Plan addressplan.Plan `json:"plan"`
	// Image is the full reference with tag, e.g. myreg.azurecr.io/meeting-bot:v1.4.2.
	// Registry login is done by the script before the agent runs.
	Image string `json:"image"`
	// EnvFile is passed to docker run as --env-file. It must stay in place: repairs
	// reuse it, and a change of its content rolls the bots like an image change.
	// Empty means no env file.
	EnvFile string       `json:"envFile,omitempty"`
	Health  HealthConfig `json:"health"`
	// Drain, when set, asks an old container to finish its work before it is stopped.
	Drain *DrainConfig `json:"drain,omitempty"`
}

// HealthConfig is where the agent answers the Application Health extension.
type HealthConfig struct {
	Port int    `json:"port"`
	Path string `json:"path"`
}

// DrainConfig is the bot's optional drain endpoint: the agent POSTs to
// http://127.0.0.1:<bot host port><Path> and waits up to TimeoutSeconds for any answer
// before stopping the container (stopping it anyway when the time is up).
type DrainConfig struct {
	Path           string `json:"path"`
	TimeoutSeconds int    `json:"timeoutSeconds"`
}

// MaxDrainTimeoutSeconds bounds DrainConfig.TimeoutSeconds so a typo cannot stall a
// rollout for days.
const MaxDrainTimeoutSeconds = 3600

// LoadDesired reads and validates a desired-state file. Unknown fields are rejected, so a
// misspelt key (say "timeoutSecond") fails loudly instead of being silently ignored.
func LoadDesired(path string) (Desired, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Desired{}, fmt.Errorf("read desired state: %w", err)
	}
	return ParseDesired(b, path)
}

// ParseDesired is LoadDesired on bytes already read; source names them in errors.
func ParseDesired(b []byte, source string) (Desired, error) {
	var d Desired
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))) // PowerShell 5 writes a BOM
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Desired{}, fmt.Errorf("desired state %s is not valid JSON for agent.Desired: %w", source, err)
	}
	if err := d.Validate(); err != nil {
		return Desired{}, fmt.Errorf("desired state %s: %w", source, err)
	}
	return d, nil
}

// Validate checks every rule the agent relies on. Each error names the field, the value
// and the rule it breaks.
func (d Desired) Validate() error {
	if strings.TrimSpace(d.Image) == "" {
		return fmt.Errorf("image: %q is empty; want a full image reference such as myreg.azurecr.io/meeting-bot:v1.4.2", d.Image)
	}
	if strings.ContainsAny(d.Image, " \t\r\n") || strings.HasPrefix(d.Image, "-") {
		return fmt.Errorf("image: %q is not an image reference (no whitespace, no leading '-')", d.Image)
	}
	if d.EnvFile != "" && strings.TrimSpace(d.EnvFile) != d.EnvFile {
		return fmt.Errorf("envFile: %q has leading or trailing whitespace", d.EnvFile)
	}
	if err := validatePlan(d.Plan); err != nil {
		return err
	}
	if d.Health.Port < 1 || d.Health.Port > 65535 {
		return fmt.Errorf("health.port: %d is out of range; want 1..65535", d.Health.Port)
	}
	for _, h := range d.Plan.Hosts {
		for _, b := range h.Bots {
			if b.Port == d.Health.Port {
				return fmt.Errorf("health.port: %d is the port of bot %s (host %s); the health endpoint needs a port no bot uses", d.Health.Port, b.Name, h.PrivateIP)
			}
		}
	}
	if !strings.HasPrefix(d.Health.Path, "/") {
		return fmt.Errorf("health.path: %q must start with '/'", d.Health.Path)
	}
	if d.Drain != nil {
		if !strings.HasPrefix(d.Drain.Path, "/") {
			return fmt.Errorf("drain.path: %q must start with '/' (omit drain to disable draining)", d.Drain.Path)
		}
		if d.Drain.TimeoutSeconds < 1 || d.Drain.TimeoutSeconds > MaxDrainTimeoutSeconds {
			return fmt.Errorf("drain.timeoutSeconds: %d is out of range; want 1..%d", d.Drain.TimeoutSeconds, MaxDrainTimeoutSeconds)
		}
	}
	return nil
}

func validatePlan(p addressplan.Plan) error {
	if p.Version != addressplan.PlanVersion {
		return fmt.Errorf("plan.version: %d is not supported; this agent reads version %d", p.Version, addressplan.PlanVersion)
	}
	if p.ContainerPort < 1 || p.ContainerPort > 65535 {
		return fmt.Errorf("plan.containerPort: %d is out of range; want 1..65535", p.ContainerPort)
	}
	for i, a := range p.RunArgs {
		switch a {
		case "-d", "--detach", "--name", "-p", "--publish", "--env-file", "--rm":
			return fmt.Errorf("plan.runArgs[%d]: %q is set by the agent itself and must not be in runArgs", i, a)
		}
	}
	if len(p.Hosts) == 0 {
		return fmt.Errorf("plan.hosts: empty; want one entry per usable address of subnet %q", p.Subnet)
	}
	ips := map[netip.Addr]int{}
	for i, h := range p.Hosts {
		ip, err := netip.ParseAddr(h.PrivateIP)
		if err != nil || !ip.Is4() {
			return fmt.Errorf("plan.hosts[%d].privateIp: %q is not an IPv4 address", i, h.PrivateIP)
		}
		if j, dup := ips[ip]; dup {
			return fmt.Errorf("plan.hosts[%d].privateIp: %s is also plan.hosts[%d].privateIp; each address must appear once", i, ip, j)
		}
		ips[ip] = i
		ports := map[int]bool{}
		for k, b := range h.Bots {
			if b.Port < 1 || b.Port > 65535 {
				return fmt.Errorf("plan.hosts[%d].bots[%d].port: %d is out of range; want 1..65535", i, k, b.Port)
			}
			if ports[b.Port] {
				return fmt.Errorf("plan.hosts[%d].bots[%d].port: %d appears twice on host %s", i, k, b.Port, h.PrivateIP)
			}
			ports[b.Port] = true
			if want := addressplan.ContainerName(b.Port); b.Name != want {
				return fmt.Errorf("plan.hosts[%d].bots[%d].name: %q; want %q (addressplan.ContainerName of port %d)", i, k, b.Name, want, b.Port)
			}
		}
	}
	return nil
}
