"""The OCI runtime: bundles (spec), state (state), the lifecycle (runtime) and the
container's long-lived sentry (daemon). The CLI commands live in sentry/cli/."""
