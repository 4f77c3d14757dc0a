"""SVG to PNG, with resvg (a Rust renderer shipped in its wheel): no system library and no font
is needed, since the illustrations draw no text."""

import resvg_py


def svg_to_png(svg: str, scale: int = 1) -> bytes:
    """The SVG rendered at its own size (`width`, `height`) times `scale`."""
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=scale, skip_system_fonts=True))
