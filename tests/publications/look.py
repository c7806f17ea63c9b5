"""A Swedish publication with a look of its own: a copied theme, its brand colour and logo."""

from __future__ import annotations

import io
from pathlib import Path

from tests.conftest import CliCaller

PLUM = "#6b1f4a"  # the brand's primary colour (the masthead band)
GOLD = (242, 201, 76)  # the logo's sun, to find the logo in screenshots and PDF pages
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 100" width="400" height="100">'
    '<circle cx="50" cy="50" r="40" fill="#f2c94c"/>'
    '<rect x="110" y="30" width="270" height="40" rx="6" fill="#ffffff"/></svg>'
)
NAME = "Länsstyrelsen i Testlän"
TITLE = "Nyhetsbrev från Länsstyrelsen"


def logo_png() -> bytes:
    """The same logo as a PNG, 400×100: twice its shown width of 200 px."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 100), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 90, 90), fill=GOLD)
    draw.rounded_rectangle((110, 30, 380, 70), radius=6, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_branded(tmp_path: Path, cli: CliCaller) -> Path:
    """init --language sv, `theme copy --as lans`, a plum brand with the logo: the workspace."""
    made = cli(
        "init", str(tmp_path / "lans"), "--language", "sv", "--name", NAME, "--title", TITLE,
        "--email", "info@lansstyrelsen.example", "--website", "https://lansstyrelsen.example",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    root = tmp_path / "lans"
    copied = cli("--root", str(root), "theme", "copy", "kom", "--as", "lans")
    assert copied.exit_code == 0, copied.output
    theme = root / "templates/lans"
    (theme / "logo.svg").write_text(LOGO_SVG, encoding="utf-8")
    (theme / "logo.png").write_bytes(logo_png())
    brand = (theme / "brand.yaml").read_text("utf-8")
    brand = brand.replace('primary: "#1b3a5c"', f'primary: "{PLUM}"')
    brand = brand.replace("  svg:\n  png:\n", "  svg: logo.svg\n  png: logo.png\n")
    (theme / "brand.yaml").write_text(brand, encoding="utf-8")
    masthead = root / "newsletters/publication.yaml"
    masthead.write_text(
        masthead.read_text("utf-8").replace("theme: kom\n", "theme: lans\n"), encoding="utf-8"
    )
    return root
