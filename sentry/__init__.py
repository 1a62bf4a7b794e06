"""sandvisor's sentry: platforms, the kernel layer, the VFS and the CLI."""
