package pool

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestComputerNamePrefixFitsWindows(t *testing.T) {
	for in, want := range map[string]string{"botpool-dev": "botpoolde", "bp-x": "bpx", "abc": "abc"} {
		assert.Equal(t, want, ComputerNamePrefix(in))
		assert.LessOrEqual(t, len(ComputerNamePrefix(in))+6, 15)
	}
}

func TestAssignmentNameIsStableAndDistinct(t *testing.T) {
	a := AssignmentName("/subscriptions/s/x", AcrPullRoleID, "vmss")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a)
	assert.Equal(t, a, AssignmentName("/SUBSCRIPTIONS/s/x", AcrPullRoleID, "vmss"), "ARM IDs are case-insensitive")
	assert.NotEqual(t, a, AssignmentName("/subscriptions/s/x", StorageBlobDataReaderRoleID, "vmss"))
	assert.NotEqual(t, a, AssignmentName("/subscriptions/s/x", AcrPullRoleID, "other"))
}
