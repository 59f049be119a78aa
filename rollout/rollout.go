// Package rollout measures what a tag change costs the pool: how many bots are offline at
// once, and how many batches the scale set's Rolling upgrade takes.
package rollout

// Disruption of one deploy.
type Disruption struct {
	// BatchSize is the most VMs one Rolling upgrade batch upgrades at once.
	BatchSize int `json:"batchSize"`
	// Batches is how many batches a deploy to the whole pool takes.
	Batches int `json:"batches"`
	// MaxBotsOffline is the most bots down at any moment: inside a VM the agent replaces one
	// container at a time, so each VM of the batch has at most one bot down.
	MaxBotsOffline int `json:"maxBotsOffline"`
	// ArticleBotsOffline is the same for the article's `update-instances --instance-ids *`:
	// every bot of the pool restarts together.
	ArticleBotsOffline int `json:"articleBotsOffline"`
}

// Measure computes the disruption of a deploy to capacity VMs of slots bots each with the
// given maxBatchInstancePercent. The batch size is rounded up (at least one VM), so the
// numbers are an upper bound whichever way Azure rounds.
func Measure(capacity, slots, maxBatchInstancePercent int) Disruption {
	if capacity <= 0 {
		return Disruption{}
	}
	batch := (capacity*maxBatchInstancePercent + 99) / 100
	if batch < 1 {
		batch = 1
	}
	if batch > capacity {
		batch = capacity
	}
	return Disruption{
		BatchSize:          batch,
		Batches:            (capacity + batch - 1) / batch,
		MaxBotsOffline:     batch,
		ArticleBotsOffline: capacity * slots,
	}
}
