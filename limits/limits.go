// Package limits checks a pool's shape against the Standard Load Balancer limits it runs into.
//
// Every bot port is one load-balancing rule, and every rule targets the whole backend pool,
// so each NIC carries every rule and each rule counts once per VM towards the per-frontend
// backend IP configuration limit. Source: "Azure subscription and service limits",
// Load Balancer section (see ../shared/reference/azure-facts.md).
package limits

import "fmt"

// The Standard Load Balancer limits the design depends on.
const (
	MaxRulesPerNIC                 = 300
	MaxRulesPerLoadBalancer        = 1500
	MaxBackendIPConfigsPerFrontend = 10000
)

// Usage is what a pool consumes of each limit.
type Usage struct {
	RulesPerNIC                 int
	RulesPerLoadBalancer        int
	BackendIPConfigsPerFrontend int
}

// Compute returns the usage of a pool with one rule per bot port (ports) and at most
// maxVMs VMs in the backend pool.
func Compute(ports, maxVMs int) Usage {
	return Usage{
		RulesPerNIC:                 ports,
		RulesPerLoadBalancer:        ports,
		BackendIPConfigsPerFrontend: ports * maxVMs,
	}
}

// Violation is one limit a pool exceeds.
type Violation struct {
	Limit string // the limit's name, as Azure documents it
	Used  int
	Max   int
}

func (v Violation) Error() string {
	return fmt.Sprintf("%s: %d exceeds the Standard Load Balancer limit of %d", v.Limit, v.Used, v.Max)
}

// Violations lists every limit the usage exceeds, in a fixed order.
func (u Usage) Violations() []Violation {
	var out []Violation
	check := func(name string, used, max int) {
		if used > max {
			out = append(out, Violation{Limit: name, Used: used, Max: max})
		}
	}
	check("rules per NIC", u.RulesPerNIC, MaxRulesPerNIC)
	check("rules per load balancer", u.RulesPerLoadBalancer, MaxRulesPerLoadBalancer)
	check("backend IP configurations per frontend", u.BackendIPConfigsPerFrontend, MaxBackendIPConfigsPerFrontend)
	return out
}
