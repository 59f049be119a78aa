package agent

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestComposeAddsTheImageToTheTemplate(t *testing.T) {
	tmpl := testDesired(t, "")
	raw, err := json.Marshal(tmpl)
	require.NoError(t, err)

	d, err := Compose(append([]byte("\xef\xbb\xbf"), raw...), "reg.azurecr.io/bot:v2")
	require.NoError(t, err)
	assert.Equal(t, "reg.azurecr.io/bot:v2", d.Image)
	tmpl.Image = d.Image
	assert.Equal(t, tmpl, d)

	path := filepath.Join(t.TempDir(), "state", "desired.json")
	require.NoError(t, WriteDesired(path, d))
	back, err := LoadDesired(path)
	require.NoError(t, err)
	assert.Equal(t, d, back)
}

func TestComposeRejects(t *testing.T) {
	withImage, _ := json.Marshal(testDesired(t, "reg.azurecr.io/bot:v1"))
	noImage, _ := json.Marshal(testDesired(t, ""))
	cases := []struct {
		name, template, image, want string
	}{
		{"unknown field", `{"plan":{},"imag":"x"}`, "reg/bot:v1", `unknown field "imag"`},
		{"image in template", string(withImage), "reg/bot:v2", "the image comes only from the deploy"},
		{"empty image", string(noImage), "", "image"},
		{"not JSON", `plan: {}`, "reg/bot:v1", "not valid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compose([]byte(c.template), c.image)
			assert.ErrorContains(t, err, c.want)
		})
	}
}
