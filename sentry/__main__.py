from sentry.startup import entry

entry()
