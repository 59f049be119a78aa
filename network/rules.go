package network

import (
	"fmt"
	"strconv"

	"github.com/botpool/botpool/addressplan"
)

// Names of the load balancer's sub-resources.
const (
	FrontendName    = "frontend"
	BackendPoolName = "bots"
)

// PortRule is one bot port's probe and load-balancing rule: frontend port = backend port,
// so the rule only reaches the one VM whose container listens there and passes the probe.
type PortRule struct {
	Port      int
	ProbeName string
	RuleName  string
}

// PortRules lists one probe and one rule for every port of the address plan.
func PortRules(l addressplan.Layout) ([]PortRule, error) {
	n, err := l.PortCount()
	if err != nil {
		return nil, err
	}
	rules := make([]PortRule, n)
	for i := range rules {
		port := l.BasePort + i
		rules[i] = PortRule{Port: port, ProbeName: "probe-" + strconv.Itoa(port), RuleName: "bot-" + strconv.Itoa(port)}
	}
	return rules, nil
}

// SecurityRule is an NSG rule in plain values.
type SecurityRule struct {
	Name                  string
	Priority              int
	Access                string
	Protocol              string
	SourcePrefixes        []string
	DestinationPortRanges []string
}

// BotPortRange is the contiguous range of every bot port, "first-last".
func BotPortRange(l addressplan.Layout) (string, error) {
	n, err := l.PortCount()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d-%d", l.BasePort, l.BasePort+n-1), nil
}

// InboundRules admit the bot ports from the allowed sources and nothing else: Azure's
// default rules already deny other inbound traffic from the internet while allowing the
// load balancer's probes, so RDP, WinRM and the agent's health port stay closed.
func InboundRules(l addressplan.Layout, sources []string) ([]SecurityRule, error) {
	r, err := BotPortRange(l)
	if err != nil {
		return nil, err
	}
	return []SecurityRule{{
		Name:                  "allow-bot-ports",
		Priority:              100,
		Access:                "Allow",
		Protocol:              "Tcp",
		SourcePrefixes:        append([]string(nil), sources...),
		DestinationPortRanges: []string{r},
	}}, nil
}
