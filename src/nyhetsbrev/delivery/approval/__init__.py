"""Four eyes before an issue goes out: approvals bound to the exact build, checked by `send`."""
