package node

import (
	"fmt"
	"os"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// compatProfile is the profile a node runs: GOSENTINEL_COMPAT (which wins,
// so that a test harness can set it for every sentinel it starts), else the
// config's compat-version, else compat.Default.
func compatProfile(cfg *config.Config) (compat.Profile, error) {
	if v := os.Getenv(config.EnvCompat); v != "" {
		p, err := compat.Parse(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", config.EnvCompat, err)
		}
		return p, nil
	}
	if cfg.Compat != "" {
		return cfg.Compat, nil
	}
	return compat.Default, nil
}

// orNotice is the loglevel a config names, "notice" when it names none.
func orNotice(level string) string {
	if level == "" {
		return "notice"
	}
	return level
}

// RedisVersion is the Redis version a node started now would report, for
// `gosentinel --version`: the environment's profile's, else the default's.
func RedisVersion() string {
	p, err := compatProfile(&config.Config{})
	if err != nil {
		p = compat.Default
	}
	return p.RedisVersion()
}
