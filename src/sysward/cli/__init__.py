"""The `sysward` command: drives the daemon through its control socket."""
