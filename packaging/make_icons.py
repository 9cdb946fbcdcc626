"""Render the app icon from its SVG to the PNG, ICO and ICNS files that are committed.

    python packaging/make_icons.py            # PNGs always; .ico and .icns when Pillow is there

Run it after editing ``resources/icons/makini-desktop.svg`` and commit what it writes. The
PNGs are drawn by Qt's own SVG renderer (QtSvg ships in PySide6-Essentials). Pillow is only
needed to pack the Windows ``.ico`` and the macOS ``.icns``; install it in a throwaway venv,
it is never a dependency of the app.

Windows draws its icons edge to edge, so the ``.ico`` uses the SVG as it is (every edge on a
whole pixel at 16, 32, 48 px ...). macOS icons sit on Apple's grid: an 824-unit body on a
1024-unit canvas, so the ``.icns`` frames draw the same SVG scaled into that body.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Any

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
NAME = "makini-desktop"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
# What Windows asks an .ico for: small icons at 100-250 % scaling, tiles, Explorer views.
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
# The frames Pillow writes into an .icns (16 to 512 at 1x and 2x).
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)
SVG_TILE = 448 / 512  # the tile's share of the SVG canvas
MACOS_BODY = 824 / 1024  # the body's share of a macOS icon canvas


def render(svg: Path, size: int, body: float | None = None) -> bytes:
    """PNG bytes of the SVG at ``size`` px; with ``body``, the tile scaled to that share."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    side = size if body is None else size * body / SVG_TILE
    offset = (size - side) / 2
    renderer.render(painter, QRectF(offset, offset, side, side))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs want bytes for the format; PySide6 itself takes (only) a str here.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise SystemExit(f"error: could not encode a {size} px PNG")
    buffer.close()
    return bytes(data.data())


def _pillow_images(svg: Path, sizes: tuple[int, ...], body: float | None = None) -> list[Any]:
    from PIL import Image

    return [Image.open(io.BytesIO(render(svg, s, body))).convert("RGBA") for s in sizes]


def write_ico(svg: Path, target: Path) -> None:
    """A multi-size .ico, each size rendered from the SVG (not scaled down from 256)."""
    images = _pillow_images(svg, ICO_SIZES)
    largest = images[-1]
    largest.save(
        target,
        format="ICO",
        sizes=[im.size for im in images],
        append_images=images[:-1],
    )


def write_icns(svg: Path, target: Path) -> None:
    """A macOS .icns, each frame rendered from the SVG on Apple's icon grid."""
    images = _pillow_images(svg, ICNS_SIZES, MACOS_BODY)
    largest = images[-1]
    largest.save(target, format="ICNS", append_images=images[:-1])


def main(argv: list[str] | None = None) -> int:
    """Write the PNGs, then the .ico and .icns when Pillow is available."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--svg", type=Path, default=ICONS / f"{NAME}.svg")
    parser.add_argument("--out", type=Path, default=ICONS, help="folder to write into")
    parser.add_argument("--require-pillow", action="store_true",
                        help="fail instead of skipping the .ico/.icns when Pillow is missing")
    ns = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841
    ns.out.mkdir(parents=True, exist_ok=True)
    for size in PNG_SIZES:
        path = ns.out / f"{NAME}-{size}.png"
        path.write_bytes(render(ns.svg, size))
        print(f"wrote {path}")
    try:
        import PIL  # noqa: F401
    except ImportError:
        if ns.require_pillow:
            print("error: Pillow is not installed (pip install pillow)", file=sys.stderr)
            return 1
        print("Pillow is not installed: .ico and .icns not written", file=sys.stderr)
        return 0
    for suffix, writer in ((".ico", write_ico), (".icns", write_icns)):
        path = ns.out / f"{NAME}{suffix}"
        writer(ns.svg, path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
