from sentry.cli import entry

entry()
