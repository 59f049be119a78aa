package config

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// ResourceID is a parsed Azure Resource Manager ID.
type ResourceID struct {
	SubscriptionID string
	ResourceGroup  string
	// Provider is the namespace with the resource type path, e.g.
	// "Microsoft.Network/virtualNetworks/subnets".
	Provider string
	Name     string // the last name segment
}

// ParseResourceID parses /subscriptions/S/resourceGroups/G/providers/NS/type/name[/type/name...].
func ParseResourceID(id string) (ResourceID, error) {
	parts := strings.Split(strings.TrimPrefix(id, "/"), "/")
	if !strings.HasPrefix(id, "/") || len(parts) < 8 || len(parts)%2 != 0 ||
		!strings.EqualFold(parts[0], "subscriptions") || !strings.EqualFold(parts[2], "resourceGroups") ||
		!strings.EqualFold(parts[4], "providers") {
		return ResourceID{}, fmt.Errorf("%q is not an ARM resource ID of the form /subscriptions/S/resourceGroups/G/providers/NAMESPACE/TYPE/NAME", id)
	}
	for _, p := range parts {
		if p == "" {
			return ResourceID{}, fmt.Errorf("%q has an empty path segment", id)
		}
	}
	if !isGUID(parts[1]) {
		return ResourceID{}, fmt.Errorf("%q: subscription %q is not a GUID", id, parts[1])
	}
	types := []string{parts[5]}
	for i := 6; i < len(parts); i += 2 {
		types = append(types, parts[i])
	}
	return ResourceID{
		SubscriptionID: parts[1],
		ResourceGroup:  parts[3],
		Provider:       strings.Join(types, "/"),
		Name:           parts[len(parts)-1],
	}, nil
}

func isGUID(s string) bool {
	// uuid.Validate also accepts braces and urn: forms; ARM IDs use the bare 36-character form.
	return len(s) == 36 && uuid.Validate(s) == nil
}
