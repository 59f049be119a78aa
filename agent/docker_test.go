package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunSpecArgs(t *testing.T) {
	s := RunSpec{Name: "bot-8014", Image: imgV2, HostPort: 8014, ContainerPort: 443, RunArgs: runArgs, EnvFile: `C:\botpool\bot.env`, SpecHash: "abc"}
	assert.Equal(t, []string{"run", "-d", "--name", "bot-8014", "-p", "8014:443", "--label", "botpool.spec=abc",
		"--restart", "always", "--isolation", "process", "--device", "class/5B45201D-F2F2-4F3B-85BB-30FF1F953599",
		"--env-file", `C:\botpool\bot.env`, imgV2}, s.Args())
	s.EnvFile = ""
	assert.NotContains(t, s.Args(), "--env-file")
}

const inspectOut = `[
 {"Name": "/bot-8014", "Config": {"Image": "myreg.azurecr.io/meeting-bot:v1.4.2", "Labels": {"botpool.spec": "abc"}},
  "State": {"Status": "running", "ExitCode": 0, "FinishedAt": "0001-01-01T00:00:00Z"}},
 {"Name": "/bot-8015", "Config": {"Image": "myreg.azurecr.io/meeting-bot:v1.4.1", "Labels": null},
  "State": {"Status": "exited", "ExitCode": 3, "FinishedAt": "2026-03-09T15:04:05.123456789Z"}}
]`

func TestDockerCLIList(t *testing.T) {
	var calls []string
	d := DockerCLI{Exec: func(_ context.Context, args ...string) ([]byte, error) {
		calls = append(calls, strings.Join(args, " "))
		switch args[0] {
		case "ps":
			return []byte("bot-8014\nbot-8015\nmybot-1\n"), nil
		case "inspect":
			return []byte(inspectOut), nil
		}
		return nil, errors.New("unexpected")
	}}
	cs, err := d.List(context.Background(), "bot-")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"ps -a --no-trunc --filter name=bot- --format {{.Names}}",
		"inspect --type container bot-8014 bot-8015",
	}, calls)
	assert.Equal(t, []Container{
		{Name: "bot-8014", Image: imgV2, SpecHash: "abc", State: "running"},
		{Name: "bot-8015", Image: imgV1, State: "exited", ExitCode: 3, FinishedAt: time.Date(2026, 3, 9, 15, 4, 5, 123456789, time.UTC)},
	}, cs)
}

func TestDockerCLICommands(t *testing.T) {
	var calls []string
	d := DockerCLI{Exec: func(_ context.Context, args ...string) ([]byte, error) {
		calls = append(calls, strings.Join(args, " "))
		return nil, nil
	}}
	ctx := context.Background()
	require.NoError(t, d.Pull(ctx, imgV2))
	require.NoError(t, d.Stop(ctx, "bot-8014", 30*time.Second))
	require.NoError(t, d.Remove(ctx, "bot-8014"))
	assert.Equal(t, []string{"pull -q " + imgV2, "stop -t 30 bot-8014", "rm -f bot-8014"}, calls)

	cs, err := DockerCLI{Exec: func(context.Context, ...string) ([]byte, error) { return nil, nil }}.List(ctx, "bot-")
	require.NoError(t, err)
	assert.Empty(t, cs)
}

func TestPortOf(t *testing.T) {
	assert.Equal(t, 8017, portOf("bot-8017"))
	assert.Equal(t, 0, portOf("bot-8017-old"))
	assert.Equal(t, 0, portOf("bot-x"))
}
