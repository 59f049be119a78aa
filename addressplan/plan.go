// Package addressplan decides which VM serves which bot port.
//
// A VM's ordinal is the index of its private IP among the usable addresses of the
// pool's dedicated subnet. Azure keeps the private IPs of live NICs in a subnet unique,
// and the subnet size bounds the ordinals, so two live VMs can never claim the same
// ports: the property the article's instance-ID scheme lacks.
package addressplan

import (
	"fmt"
	"net/netip"
)

// Azure reserves the network address, .1 (gateway), .2 and .3 (DNS) and the broadcast address.
const (
	reservedAtStart = 4
	reservedAtEnd   = 1
)

// UsableAddresses lists, in order, the addresses Azure can give a NIC in an IPv4 subnet.
// The index of an address in this list is the ordinal of the VM that holds it.
func UsableAddresses(subnet netip.Prefix) ([]netip.Addr, error) {
	n, err := UsableCount(subnet)
	if err != nil {
		return nil, err
	}
	addrs := make([]netip.Addr, 0, n)
	a := subnet.Masked().Addr()
	for i := 0; i < reservedAtStart; i++ {
		a = a.Next()
	}
	for i := 0; i < n; i++ {
		addrs = append(addrs, a)
		a = a.Next()
	}
	return addrs, nil
}

// UsableCount is len(UsableAddresses(subnet)) without building the list.
func UsableCount(subnet netip.Prefix) (int, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return 0, fmt.Errorf("subnet %q is not an IPv4 CIDR prefix", subnet)
	}
	if subnet.Bits() > 29 {
		// Azure's smallest subnet is a /29 (three usable addresses).
		return 0, fmt.Errorf("subnet %s is smaller than /29, the smallest subnet Azure allows", subnet)
	}
	return (1 << (32 - subnet.Bits())) - reservedAtStart - reservedAtEnd, nil
}

// Layout is everything that decides bot addresses.
type Layout struct {
	Subnet        netip.Prefix
	BasePort      int // host port of slot 0 on ordinal 0
	SlotsPerVM    int // bot containers on each VM
	ContainerPort int // port the bot listens on inside its container
}

// Port is the host (and load balancer frontend) port of a bot: ports are dense, VM after VM,
// so with SlotsPerVM 10 and BasePort 8011, port 8031 is slot 0 on ordinal 2 (the article's
// "first bot on the third VM").
func (l Layout) Port(ordinal, slot int) int {
	return l.BasePort + ordinal*l.SlotsPerVM + slot
}

// Locate is the inverse of Port.
func (l Layout) Locate(port int) (ordinal, slot int, ok bool) {
	if l.SlotsPerVM <= 0 || port < l.BasePort {
		return 0, 0, false
	}
	off := port - l.BasePort
	ordinal, slot = off/l.SlotsPerVM, off%l.SlotsPerVM
	n, err := UsableCount(l.Subnet)
	if err != nil || ordinal >= n {
		return 0, 0, false
	}
	return ordinal, slot, true
}

// PortCount is how many bot ports the plan covers: every slot of every usable address,
// so that whatever address Azure gives a VM, its ports already have load balancer rules.
func (l Layout) PortCount() (int, error) {
	n, err := UsableCount(l.Subnet)
	if err != nil {
		return 0, err
	}
	return n * l.SlotsPerVM, nil
}

// ContainerName is the Docker name of the bot on a port: unique across the pool, and
// it tells an operator on the VM which public port reaches the container.
func ContainerName(port int) string { return fmt.Sprintf("bot-%d", port) }

// Plan is the data contract between the Pulumi program and each VM: it travels as JSON
// (uploaded beside the bot-host script) and the VM picks its own Host by private IP.
// It carries no image reference and no secrets: those change per deploy and are passed
// separately, so a tag change does not change the plan.
type Plan struct {
	Version       int      `json:"version"`
	Subnet        string   `json:"subnet"`
	ContainerPort int      `json:"containerPort"`
	RunArgs       []string `json:"runArgs"` // docker run flags shared by every bot container
	Hosts         []Host   `json:"hosts"`
}

// Host is what the VM holding PrivateIP runs.
type Host struct {
	Ordinal   int    `json:"ordinal"`
	PrivateIP string `json:"privateIp"`
	Bots      []Bot  `json:"bots"`
}

// Bot is one container on a host.
type Bot struct {
	Slot int    `json:"slot"`
	Port int    `json:"port"`
	Name string `json:"name"`
}

// PlanVersion is bumped when Plan's JSON shape changes incompatibly.
const PlanVersion = 1

// Build computes the plan for every usable address of the layout's subnet.
func Build(l Layout, runArgs []string) (Plan, error) {
	addrs, err := UsableAddresses(l.Subnet)
	if err != nil {
		return Plan{}, err
	}
	if l.SlotsPerVM < 1 {
		return Plan{}, fmt.Errorf("slots per VM must be at least 1, got %d", l.SlotsPerVM)
	}
	p := Plan{
		Version:       PlanVersion,
		Subnet:        l.Subnet.Masked().String(),
		ContainerPort: l.ContainerPort,
		RunArgs:       append([]string(nil), runArgs...),
		Hosts:         make([]Host, len(addrs)),
	}
	bots := make([]Bot, len(addrs)*l.SlotsPerVM) // one backing array: fewer allocations at the largest pool
	for o, a := range addrs {
		hb := bots[o*l.SlotsPerVM : (o+1)*l.SlotsPerVM : (o+1)*l.SlotsPerVM]
		for s := range hb {
			port := l.Port(o, s)
			hb[s] = Bot{Slot: s, Port: port, Name: ContainerName(port)}
		}
		p.Hosts[o] = Host{Ordinal: o, PrivateIP: a.String(), Bots: hb}
	}
	return p, nil
}

// HostFor finds the entry of the VM that holds ip.
func (p Plan) HostFor(ip string) (Host, bool) {
	for _, h := range p.Hosts {
		if h.PrivateIP == ip {
			return h, true
		}
	}
	return Host{}, false
}
