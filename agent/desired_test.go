package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/botpool/botpool/addressplan"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDesiredValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(d *Desired)
		err    string
	}{
		{name: "valid", modify: func(*Desired) {}},
		{name: "valid with drain", modify: func(d *Desired) { d.Drain = &DrainConfig{Path: "/drain", TimeoutSeconds: 600} }},
		{name: "valid without env file", modify: func(d *Desired) { d.EnvFile = "" }},
		{name: "empty image", modify: func(d *Desired) { d.Image = " " },
			err: `image: " " is empty; want a full image reference such as myreg.azurecr.io/meeting-bot:v1.4.2`},
		{name: "image with space", modify: func(d *Desired) { d.Image = "bot v1" },
			err: `image: "bot v1" is not an image reference`},
		{name: "health port zero", modify: func(d *Desired) { d.Health.Port = 0 },
			err: "health.port: 0 is out of range; want 1..65535"},
		{name: "health port too big", modify: func(d *Desired) { d.Health.Port = 70000 },
			err: "health.port: 70000 is out of range; want 1..65535"},
		{name: "health port is a bot port of another host", modify: func(d *Desired) { d.Health.Port = 8017 },
			err: "health.port: 8017 is the port of bot bot-8017 (host 10.0.0.6); the health endpoint needs a port no bot uses"},
		{name: "health path", modify: func(d *Desired) { d.Health.Path = "health" },
			err: `health.path: "health" must start with '/'`},
		{name: "drain path", modify: func(d *Desired) { d.Drain = &DrainConfig{Path: "", TimeoutSeconds: 5} },
			err: `drain.path: "" must start with '/'`},
		{name: "drain timeout", modify: func(d *Desired) { d.Drain = &DrainConfig{Path: "/drain"} },
			err: "drain.timeoutSeconds: 0 is out of range; want 1..3600"},
		{name: "plan version", modify: func(d *Desired) { d.Plan.Version = 2 },
			err: "plan.version: 2 is not supported; this agent reads version 1"},
		{name: "container port", modify: func(d *Desired) { d.Plan.ContainerPort = 0 },
			err: "plan.containerPort: 0 is out of range; want 1..65535"},
		{name: "run args set what the agent sets", modify: func(d *Desired) { d.Plan.RunArgs = append(d.Plan.RunArgs, "-p") },
			err: `plan.runArgs[6]: "-p" is set by the agent itself`},
		{name: "no hosts", modify: func(d *Desired) { d.Plan.Hosts = nil },
			err: `plan.hosts: empty`},
		{name: "host ip", modify: func(d *Desired) { d.Plan.Hosts[1].PrivateIP = "10.0.0" },
			err: `plan.hosts[1].privateIp: "10.0.0" is not an IPv4 address`},
		{name: "duplicate host ip", modify: func(d *Desired) { d.Plan.Hosts[2].PrivateIP = "10.0.0.4" },
			err: `plan.hosts[2].privateIp: 10.0.0.4 is also plan.hosts[0].privateIp`},
		{name: "duplicate bot port", modify: func(d *Desired) {
			d.Plan.Hosts[0].Bots[1] = addressplan.Bot{Slot: 1, Port: 8011, Name: "bot-8011"}
		}, err: "plan.hosts[0].bots[1].port: 8011 appears twice on host 10.0.0.4"},
		{name: "bot name", modify: func(d *Desired) { d.Plan.Hosts[0].Bots[0].Name = "bot1" },
			err: `plan.hosts[0].bots[0].name: "bot1"; want "bot-8011"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDesired(t, imgV1)
			tc.modify(&d)
			err := d.Validate()
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// The JSON shape is a contract with the bot-host script.
func TestDesiredJSONShape(t *testing.T) {
	d := testDesired(t, imgV1)
	d.Plan.Hosts = d.Plan.Hosts[:1]
	d.Plan.Hosts[0].Bots = d.Plan.Hosts[0].Bots[:1]
	d.Drain = &DrainConfig{Path: "/drain", TimeoutSeconds: 120}
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `{
	  "plan": {"version": 1, "subnet": "10.0.0.0/29", "containerPort": 443,
	    "runArgs": ["--restart","always","--isolation","process","--device","class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"],
	    "hosts": [{"ordinal": 0, "privateIp": "10.0.0.4", "bots": [{"slot": 0, "port": 8011, "name": "bot-8011"}]}]},
	  "image": "myreg.azurecr.io/meeting-bot:v1.4.1",
	  "envFile": "C:\\botpool\\bot.env",
	  "health": {"port": 8000, "path": "/health"},
	  "drain": {"path": "/drain", "timeoutSeconds": 120}
	}`, string(b))

	back, err := ParseDesired(b, "test")
	require.NoError(t, err)
	assert.Equal(t, d, back)
}

func TestLoadDesired(t *testing.T) {
	dir := t.TempDir()
	good, err := json.Marshal(testDesired(t, imgV1))
	require.NoError(t, err)

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	d, err := LoadDesired(write("good.json", good))
	require.NoError(t, err)
	assert.Equal(t, imgV1, d.Image)

	_, err = LoadDesired(write("bom.json", append([]byte("\xef\xbb\xbf"), good...)))
	assert.NoError(t, err, "PowerShell's UTF-8 BOM is accepted")

	_, err = LoadDesired(write("typo.json", []byte(`{"imag": "x"}`)))
	assert.ErrorContains(t, err, `unknown field "imag"`)

	_, err = LoadDesired(write("invalid.json", []byte(`{"image": ""}`)))
	assert.ErrorContains(t, err, "invalid.json: image:")

	_, err = LoadDesired(filepath.Join(dir, "absent.json"))
	assert.ErrorContains(t, err, "read desired state")
}
