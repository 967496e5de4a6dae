"""`weiguang decode IMAGE...`: print the QR texts found in image files, one JSON object per line.

    from kiosk.scanner.cli import decode_command
    sys.exit(decode_command(["badge.png", "photo.jpg"]))

Each file prints {"file": path, "texts": [...]}; a file that cannot be read prints
{"file": path, "texts": [], "error": "..."}. The return value (exit code) is 1 if any file failed,
else 0; an image without a QR code is not a failure (its "texts" is just empty).
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

__all__ = ["decode_command"]


def decode_command(paths: list[str], out: TextIO | None = None) -> int:
    from PIL import Image, UnidentifiedImageError

    from kiosk.scanner.decoder import decode

    out = sys.stdout if out is None else out
    status = 0
    for path in paths:
        line: dict = {"file": path, "texts": []}
        try:
            with Image.open(path) as img:
                img.load()
                line["texts"] = decode(img)
        except FileNotFoundError:
            line["error"] = "file not found"
        except UnidentifiedImageError:
            line["error"] = "not an image file"
        except Image.DecompressionBombError as exc:   # not an OSError: caught apart, the next file goes on
            line["error"] = f"image too large to decode safely: {exc}"
        except (OSError, ValueError) as exc:
            line["error"] = f"{type(exc).__name__}: {exc}"
        if "error" in line:
            status = 1
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()  # one line per file as it is done, for pipes
    return status
