package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// document is the --json shape; field order is the documented order.
type document struct {
	Project   string         `json:"project"`
	Stack     string         `json:"stack"`
	Resources []Resource     `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	Bots      []Bot          `json:"bots"`
	Limits    Limits         `json:"limits"`
	Rollout   Rollout        `json:"rollout"`
}

// JSON is the plan for machines: byte-for-byte the same for the same config (resources
// sorted by type then name, object keys sorted), two-space indented, newline-terminated.
func (r *Result) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	outputs := r.Outputs
	if outputs == nil {
		outputs = map[string]any{}
	}
	if err := enc.Encode(document{
		Project: r.Project, Stack: r.Stack, Resources: r.Resources, Outputs: outputs, Bots: r.Bots, Limits: r.Limits,
		Rollout: r.Rollout,
	}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteText writes the plan for people: resource counts by type, the pool's shape, the
// load balancer limits, the outputs and the bot address book, in aligned columns.
func (r *Result) WriteText(w io.Writer) error {
	var buf bytes.Buffer
	c := r.Config
	section := func(title string) *tabwriter.Writer {
		if buf.Len() > 0 {
			buf.WriteString("\n")
		}
		buf.WriteString(title + "\n")
		return tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	}

	fmt.Fprintf(&buf, "Plan of %s/%s: what `pulumi up` would register, run offline under Pulumi's mock monitor.\n",
		r.Project, r.Stack)
	fmt.Fprintf(&buf, "Secure values are placeholders (shown as %s); IDs are the mock's (mock-id:<name>).\n", SecretText)

	tw := section(fmt.Sprintf("Resources (%d)", len(r.Resources)))
	fmt.Fprintln(tw, "  TYPE\tCOUNT")
	for _, tc := range r.TypeCounts() {
		fmt.Fprintf(tw, "  %s\t%d\n", tc.Type, tc.Count)
	}
	tw.Flush()

	layout := c.Layout()
	ports, _ := layout.PortCount()
	usable := 0
	if ports > 0 {
		usable = ports / layout.SlotsPerVM
	}
	tw = section("Pool")
	rows := [][2]string{
		{"location", c.Location},
		{"resource group", c.ResourceGroupName},
		{"VM size", c.Pool.VMSize},
		{"capacity", fmt.Sprintf("%d VMs (maxCapacity %d)", c.Pool.Capacity, c.Pool.MaxCapacity)},
		{"slots per VM", fmt.Sprintf("%d (%d bots at capacity)", layout.SlotsPerVM, c.Pool.Capacity*layout.SlotsPerVM)},
		{"subnet", fmt.Sprintf("%s (%d usable addresses = VM ordinals 0-%d)", layout.Subnet, usable, usable-1)},
		{"bot ports", fmt.Sprintf("%d-%d (%d ports, one per slot of every usable address)",
			layout.BasePort, layout.BasePort+ports-1, ports)},
		{"container port", fmt.Sprint(layout.ContainerPort)},
		{"health port", fmt.Sprint(c.Health.Port)},
		{"image", c.Bots.ImageRef()},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()

	tw = section("Load balancer limits (Standard SKU)")
	fmt.Fprintln(tw, "  LIMIT\tUSED\tMAX\tHEADROOM")
	for _, l := range []struct {
		name string
		l    Limit
	}{
		{"rules per NIC", r.Limits.RulesPerNIC},
		{"rules per load balancer", r.Limits.RulesPerLoadBalancer},
		{"backend IP configurations per frontend", r.Limits.BackendIPConfigsPerFrontend},
	} {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d (%.1f%%)\n", l.name, l.l.Used, l.l.Max, l.l.Max-l.l.Used, l.l.Headroom())
	}
	tw.Flush()

	ro := r.Rollout
	tw = section("Deploy disruption of a tag change")
	for _, row := range [][2]string{
		{"rolling batches", fmt.Sprintf("%d of at most %d VMs (%d%% of %d; maxBatchInstancePercent)",
			ro.Batches, ro.BatchSize, ro.MaxBatchInstancePercent, ro.Capacity)},
		{"most bots offline at once", fmt.Sprintf("%d of %d (one bot per VM in the batch, replaced one at a time)",
			ro.MaxBotsOffline, ro.ArticleBotsOffline)},
		{"the article's update-instances *", fmt.Sprintf("%d of %d (every bot restarts together)",
			ro.ArticleBotsOffline, ro.ArticleBotsOffline)},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()

	tw = section(fmt.Sprintf("Outputs (%d)", len(r.Outputs)))
	keys := make([]string, 0, len(r.Outputs))
	for k := range r.Outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%v\n", k, r.Outputs[k])
	}
	tw.Flush()

	section(fmt.Sprintf("Address book (%d bots)", len(r.Bots)))
	fmt.Fprintf(&buf, "  Every usable address of the subnet has its ports. Azure does not promise which\n"+
		"  address a VM gets, so the %d VMs at capacity may hold any %d of these ordinals;\n"+
		"  the others are the addresses scale-outs and replacements may take.\n", c.Pool.Capacity, c.Pool.Capacity)
	tw = tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ORDINAL\tPRIVATE IP\tSLOT\tPORT\tADDRESS")
	for _, b := range r.Bots {
		fmt.Fprintf(tw, "  %d\t%s\t%d\t%d\t%s\n", b.Ordinal, b.PrivateIP, b.Slot, b.Port, b.Address)
	}
	tw.Flush()

	_, err := w.Write(buf.Bytes())
	return err
}

// Text is WriteText into a byte slice.
func (r *Result) Text() []byte {
	var buf bytes.Buffer
	_ = r.WriteText(&buf) // a bytes.Buffer does not fail
	return buf.Bytes()
}
