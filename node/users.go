package node

import (
	"errors"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// checkUsers has the ACL engine check the config's `user` lines as redis
// does while reading its config file; a line it refuses is a fatal config
// error naming the line, in redis' block, like the loader's own errors.
// It runs before anything is opened, as the check ran inside the loader.
func checkUsers(cfg *config.Config, p compat.Profile) error {
	err := sentinel.CheckUserLines(p, cfg.Users)
	var ue *sentinel.UserLineError
	if errors.As(err, &ue) {
		return cfg.UserLineError(ue.Index, ue.Reason)
	}
	return err
}
