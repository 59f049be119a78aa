package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Compose makes the desired state from the template the Pulumi program ships (everything
// but the image, so a new tag does not change the template) and the image of this deploy.
func Compose(template []byte, image string) (Desired, error) {
	var d Desired
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(template, []byte("\xef\xbb\xbf"))))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Desired{}, fmt.Errorf("desired-state template is not valid JSON for agent.Desired: %w", err)
	}
	if d.Image != "" {
		return Desired{}, fmt.Errorf("image: the template sets %q; the image comes only from the deploy", d.Image)
	}
	d.Image = image
	if err := d.Validate(); err != nil {
		return Desired{}, err
	}
	return d, nil
}

// WriteDesired writes d to path atomically, so the service never reads half a file.
func WriteDesired(path string, d Desired) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write desired state: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write desired state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write desired state: %w", err)
	}
	return nil
}
