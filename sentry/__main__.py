from sentry.cli import main

main()
