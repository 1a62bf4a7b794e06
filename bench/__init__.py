"""sandvisor's benchmark suite: `python -m bench` (or `sandvisor bench`); see bench/driver.py."""
