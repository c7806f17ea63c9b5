"""The PDF standards `build --pdf-standard` offers: light, so the verb's help imports no Typst."""

from __future__ import annotations

STANDARDS: dict[str, tuple[str, ...]] = {"ua-1": ("ua-1",), "a-2a,ua-1": ("a-2a", "ua-1")}
DEFAULT_STANDARD = "ua-1"
