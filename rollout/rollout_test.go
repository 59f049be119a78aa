package rollout

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMeasure(t *testing.T) {
	cases := []struct {
		name                     string
		capacity, slots, percent int
		want                     Disruption
	}{
		{"dev: two VMs, 20% is still one VM", 2, 4, 20, Disruption{1, 2, 1, 8}},
		{"prod: twenty VMs at 20%", 20, 10, 20, Disruption{4, 5, 4, 200}},
		{"rounds up", 27, 10, 20, Disruption{6, 5, 6, 270}},
		{"everything at once", 5, 2, 100, Disruption{5, 1, 5, 10}},
		{"empty pool", 0, 4, 20, Disruption{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Measure(c.capacity, c.slots, c.percent))
		})
	}
}
