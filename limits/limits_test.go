package limits

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestViolations(t *testing.T) {
	cases := []struct {
		name          string
		ports, maxVMs int
		want          []string
	}{
		{"article-sized pool fits", 40, 4, nil},
		{"exactly at every limit that binds", 300, 33, nil},
		{"one rule too many per NIC", 301, 1, []string{"rules per NIC"}},
		{"backend configs over", 270, 38, []string{"backend IP configurations per frontend"}},
		{"both", 400, 30, []string{"rules per NIC", "backend IP configurations per frontend"}},
		{"beyond the LB rule limit too", 1501, 1, []string{"rules per NIC", "rules per load balancer"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, v := range Compute(c.ports, c.maxVMs).Violations() {
				got = append(got, v.Limit)
			}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestViolationMessageNamesNumbers(t *testing.T) {
	v := Compute(301, 1).Violations()[0]
	assert.Equal(t, "rules per NIC: 301 exceeds the Standard Load Balancer limit of 300", v.Error())
}
