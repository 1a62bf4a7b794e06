"""The gofer: the only process that opens the sandbox's host files."""
