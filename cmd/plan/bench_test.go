package main

import (
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/limits"
	"github.com/botpool/botpool/mockcloud"
	"github.com/botpool/botpool/plan"
)

// The largest configuration the load balancer limits allow.
//
// Every bot port is one load-balancing rule on every NIC, and the ports cover every slot
// of every usable address: rules = usable(subnet) x slotsPerVm <= 300 (rules per NIC;
// the 1,500 rules per load balancer can then never bind), and rules x maxCapacity <=
// 10,000 (backend IP configurations per frontend), with maxCapacity <= usable.
// What the program does grows with the rules (one LB rule, one probe, one plan entry and
// one address-book row each) and the VMs. The usable counts are 3 (/29), 11, 27, 59, 123,
// 251 (/24); a /23's 507 addresses already exceed 300 rules at one slot. The most rules:
// /29 x 100 slots = 300, but only 3 VMs. Next: /28 x 27 = 297 on 11 VMs, and
// /27 x 11 = 297 on 27 VMs (297 x 27 = 8,019 backend IP configurations; 33 VMs would
// need a larger subnet, whose best is /26 x 5 = 295 rules). So the largest is /27 with
// 11 slots and all 27 VMs: 99% of the per-NIC rules and the most VMs at that many rules,
// 297 bots running. TestLargestConfig checks this against every layout.
var largest = map[string]string{
	"botpool:subnetPrefix": "10.50.1.0/27",
	"botpool:slotsPerVm":   "11",
	"botpool:capacity":     "27",
	"botpool:maxCapacity":  "27",
}

// stackWith is the dev stack with some keys changed.
func stackWith(t testing.TB, changes map[string]string) mockcloud.Stack {
	t.Helper()
	st, err := plan.ReadStackFile("botpool", "dev", filepath.Join("..", "..", "Pulumi.dev.yaml"))
	require.NoError(t, err)
	for k, v := range changes {
		st.Config[k] = v
	}
	return st
}

func TestLargestConfig(t *testing.T) {
	// It is valid, and uses what the comment on largest says.
	st := stackWith(t, largest)
	// Its speed is measured by BenchmarkPlan/largest, not here: a wall-clock assertion
	// would also time the first agent cross-compile on a cold cache.
	res, err := plan.Run(st)
	require.NoError(t, err)
	assert.Equal(t, plan.Limits{
		RulesPerNIC:                 plan.Limit{Used: 297, Max: limits.MaxRulesPerNIC},
		RulesPerLoadBalancer:        plan.Limit{Used: 297, Max: limits.MaxRulesPerLoadBalancer},
		BackendIPConfigsPerFrontend: plan.Limit{Used: 8019, Max: limits.MaxBackendIPConfigsPerFrontend},
	}, res.Limits)
	assert.Len(t, res.Bots, 297)

	// One more slot breaks the rules-per-NIC limit: the program refuses it.
	more := stackWith(t, largest)
	more.Config["botpool:slotsPerVm"] = "12"
	_, err = plan.Run(more)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rules per NIC: 324 exceeds the Standard Load Balancer limit of 300")
	_, err = config.Load("dev", plan.Source(more), plan.Options)
	require.Error(t, err)

	// Against every layout the limits allow: none has more than 300 rules, largest has
	// at least 99% of the most, and no layout with as many rules has more VMs.
	best := 0
	chosenRules, chosenVMs := 297, 27
	for bits := 16; bits <= 29; bits++ {
		usable, err := addressplan.UsableCount(netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), bits))
		require.NoError(t, err)
		for slots := 1; slots <= limits.MaxRulesPerNIC; slots++ {
			rules := usable * slots
			vms := min(usable, limits.MaxBackendIPConfigsPerFrontend/max(rules, 1))
			if vms < 1 || len(limits.Compute(rules, vms).Violations()) > 0 {
				continue
			}
			best = max(best, rules)
			if rules >= chosenRules {
				assert.LessOrEqual(t, vms, chosenVMs, "/%d x %d slots: %d rules on %d VMs", bits, slots, rules, vms)
			}
		}
	}
	assert.Equal(t, limits.MaxRulesPerNIC, best)
	assert.GreaterOrEqual(t, chosenRules*100, best*99)
}

// BenchmarkPlan measures plan.Run, the program evaluation under the mock monitor plus the
// address book, at dev, prod and the largest configuration. BenchmarkRender measures the
// two output formats. Run: go test ./cmd/plan -run xxx -bench . -benchtime 20x -benchmem
func BenchmarkPlan(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := plan.Run(c.stack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	for _, c := range benchCases(b) {
		res, err := plan.Run(c.stack)
		require.NoError(b, err)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := res.JSON(); err != nil {
					b.Fatal(err)
				}
				_ = res.Text()
			}
		})
	}
}

type benchCase struct {
	name  string
	stack mockcloud.Stack
}

func benchCases(b *testing.B) []benchCase {
	prod, err := plan.ReadStackFile("botpool", "prod", filepath.Join("..", "..", "Pulumi.prod.yaml"))
	require.NoError(b, err)
	cases := []benchCase{{"dev", stackWith(b, nil)}, {"prod", prod}, {"largest", stackWith(b, largest)}}
	for _, c := range cases {
		slots, _ := strconv.Atoi(c.stack.Config["botpool:slotsPerVm"])
		require.Positive(b, slots, c.name)
	}
	return cases
}
