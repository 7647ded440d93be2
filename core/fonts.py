"""The CJK font that the village notices (PDF) embed and the charts draw with: one that works offline, installed by
the project's set-up (Debian's fonts-wqy-microhei), or any TrueType file named by ``FFP_CJK_FONT``."""

from __future__ import annotations

import os
from pathlib import Path

FONT_NAME = "WQYMicroHei"
FONT_PACKAGE = "fonts-wqy-microhei"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


class FontMissing(RuntimeError):
    pass


def find_font() -> Path:
    env = os.environ.get("FFP_CJK_FONT")
    for candidate in ([env] if env else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(
        f"公示名单 PDF 需要中文字体，未找到。请安装 Debian 软件包 {FONT_PACKAGE}"
        f"（apt-get install -y {FONT_PACKAGE}），或用环境变量 FFP_CJK_FONT 指定 .ttf/.ttc 文件。"
        f" / No CJK font found for the publication PDFs: install the Debian package {FONT_PACKAGE} "
        f"or set FFP_CJK_FONT to a TrueType font file. Looked in: {', '.join(FONT_CANDIDATES)}"
    )
