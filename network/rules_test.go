package network

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botpool/botpool/addressplan"
)

func TestPortRulesAndInboundRules(t *testing.T) {
	cases := []struct {
		subnet      string
		base, slots int
		count       int
		portRange   string
	}{
		{"10.50.1.0/28", 8011, 4, 44, "8011-8054"},
		{"10.60.1.0/27", 8011, 10, 270, "8011-8280"},
		{"10.0.0.0/29", 9000, 1, 3, "9000-9002"},
	}
	for _, c := range cases {
		t.Run(c.subnet, func(t *testing.T) {
			l := addressplan.Layout{Subnet: netip.MustParsePrefix(c.subnet), BasePort: c.base, SlotsPerVM: c.slots}
			rules, err := PortRules(l)
			require.NoError(t, err)
			require.Len(t, rules, c.count)
			probes, names := map[string]bool{}, map[string]bool{}
			for i, r := range rules {
				assert.Equal(t, c.base+i, r.Port)
				assert.False(t, probes[r.ProbeName] || names[r.RuleName], "names must be unique")
				probes[r.ProbeName], names[r.RuleName] = true, true
			}
			in, err := InboundRules(l, []string{"Internet"})
			require.NoError(t, err)
			require.Len(t, in, 1)
			assert.Equal(t, []string{c.portRange}, in[0].DestinationPortRanges)
			assert.Equal(t, "Allow", in[0].Access)
			assert.Equal(t, "Tcp", in[0].Protocol)
		})
	}
	_, err := PortRules(addressplan.Layout{Subnet: netip.MustParsePrefix("10.0.0.0/30"), SlotsPerVM: 1})
	assert.Error(t, err)
}

func TestFQDN(t *testing.T) {
	assert.Equal(t, "bots.westeurope.cloudapp.azure.com", FQDN("bots", "westeurope"))
}
