package addressplan

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsableAddresses(t *testing.T) {
	cases := []struct {
		subnet      string
		count       int
		first, last string
		err         string
	}{
		{subnet: "10.0.0.0/29", count: 3, first: "10.0.0.4", last: "10.0.0.6"},
		{subnet: "10.50.1.0/28", count: 11, first: "10.50.1.4", last: "10.50.1.14"},
		{subnet: "10.50.1.0/27", count: 27, first: "10.50.1.4", last: "10.50.1.30"},
		{subnet: "10.50.1.64/26", count: 59, first: "10.50.1.68", last: "10.50.1.126"},
		{subnet: "10.50.0.0/24", count: 251, first: "10.50.0.4", last: "10.50.0.254"},
		{subnet: "10.0.0.0/30", err: "smaller than /29"},
		{subnet: "fd00::/64", err: "not an IPv4"},
	}
	for _, c := range cases {
		t.Run(c.subnet, func(t *testing.T) {
			addrs, err := UsableAddresses(netip.MustParsePrefix(c.subnet))
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, addrs, c.count)
			assert.Equal(t, c.first, addrs[0].String())
			assert.Equal(t, c.last, addrs[len(addrs)-1].String())
			n, err := UsableCount(netip.MustParsePrefix(c.subnet))
			require.NoError(t, err)
			assert.Equal(t, c.count, n)
		})
	}
}

func TestArticleAddresses(t *testing.T) {
	// The article: 8031 is the first bot on the third VM, 8084 the fourth on the eighth.
	l := Layout{Subnet: netip.MustParsePrefix("10.60.1.0/27"), BasePort: 8011, SlotsPerVM: 10}
	cases := []struct{ port, ordinal, slot int }{
		{8011, 0, 0}, {8031, 2, 0}, {8084, 7, 3}, {8280, 26, 9},
	}
	for _, c := range cases {
		o, s, ok := l.Locate(c.port)
		require.True(t, ok, "port %d", c.port)
		assert.Equal(t, [2]int{c.ordinal, c.slot}, [2]int{o, s}, "port %d", c.port)
		assert.Equal(t, c.port, l.Port(c.ordinal, c.slot))
	}
	for _, outside := range []int{8010, 8281, 80} {
		_, _, ok := l.Locate(outside)
		assert.False(t, ok, "port %d is not a bot port", outside)
	}
}

func TestBuildCoversEveryAddressWithDisjointPorts(t *testing.T) {
	for _, c := range []struct {
		subnet string
		slots  int
	}{{"10.50.1.0/28", 4}, {"10.60.1.0/27", 10}, {"10.0.0.0/29", 1}, {"10.50.0.0/26", 5}} {
		l := Layout{Subnet: netip.MustParsePrefix(c.subnet), BasePort: 9000, SlotsPerVM: c.slots, ContainerPort: 443}
		p, err := Build(l, []string{"--restart", "always"})
		require.NoError(t, err)
		addrs, _ := UsableAddresses(l.Subnet)
		require.Len(t, p.Hosts, len(addrs))
		seen := map[int]string{}
		for i, h := range p.Hosts {
			assert.Equal(t, i, h.Ordinal)
			assert.Equal(t, addrs[i].String(), h.PrivateIP)
			require.Len(t, h.Bots, c.slots)
			for s, b := range h.Bots {
				assert.Equal(t, s, b.Slot)
				assert.Equal(t, "bot-"+strconv.Itoa(b.Port), b.Name)
				o, slot, ok := l.Locate(b.Port)
				assert.True(t, ok)
				assert.Equal(t, [2]int{i, s}, [2]int{o, slot})
				if other, dup := seen[b.Port]; dup {
					t.Fatalf("%s: port %d on %s and %s", c.subnet, b.Port, other, h.PrivateIP)
				}
				seen[b.Port] = h.PrivateIP
			}
		}
		n, _ := l.PortCount()
		assert.Len(t, seen, n)
		got, ok := p.HostFor(addrs[len(addrs)-1].String())
		assert.True(t, ok)
		assert.Equal(t, len(addrs)-1, got.Ordinal)
		_, ok = p.HostFor("192.168.0.1")
		assert.False(t, ok)
	}
}

func TestBuildRejectsNoSlots(t *testing.T) {
	_, err := Build(Layout{Subnet: netip.MustParsePrefix("10.0.0.0/29"), BasePort: 9000}, nil)
	assert.ErrorContains(t, err, "slots per VM must be at least 1")
}
