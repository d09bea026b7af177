"""The pack's screenshots in docs/images (monthly_pack*.png), from a pack made with `spm report`:

.venv/bin/spm demo && .venv/bin/spm report --out /tmp/pack
.venv/bin/python -m tests.reporting.screenshots /tmp/pack/monthly_pack_2025-12.html docs/images
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from tests.reporting.browser import open_page

#: Each picture: from the top of the first section named to the top of the next picture's.
PARTS = (
    ("monthly_pack.png", "body"),
    ("monthly_pack_2.png", "#funnel"),
    ("monthly_pack_3.png", "#forecast"),
    ("monthly_pack_4.png", "#commission"),
)


def main(html: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    full = folder / ".monthly_pack_full.png"
    with open_page(html) as page:
        tops = [
            int(page.evaluate(f"document.querySelector('{selector}').getBoundingClientRect().top + window.scrollY"))
            for _, selector in PARTS
        ]
        page.screenshot(full)
        assert not page.errors, page.errors
    with Image.open(full) as image:
        bottoms = [top - 8 for top in tops[1:]] + [image.height]
        for (name, _), top, bottom in zip(PARTS, tops, bottoms, strict=True):
            image.crop((0, max(0, top - 8), image.width, bottom)).save(folder / name, optimize=True)
    full.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
