"""nyhetsbrev: write a newsletter issue as YAML, build its editions, keep the list, send it."""

__version__ = "0.1.0"
