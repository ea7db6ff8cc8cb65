"""The control plane: HTTP/1.1 + JSON over the daemon's Unix socket."""
