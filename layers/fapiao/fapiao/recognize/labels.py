"""Labels printed on invoices and the shapes of the values beside them, as regexes over
``Layout`` line text (see ``layout.label``: a label's characters may be spaced out)."""

from __future__ import annotations

import datetime as dt
import re

from fapiao.recognize import values
from fapiao.recognize.layout import Layout, label

SEP = r"[\s:：]*"  # between a label and a value with a fixed shape (may cross a column)
# Between a label and free text: stays in the label's column, except that a colon may
# stand apart from its label ("购买方名称    : 张蕾蕾").
NEAR = r"[ \u3000]*(?:\t?[ \u3000]*[:：])?[ \u3000:：]*"
TEXT = r"([^\t]+)"
TAX_ID_VALUE = r"([0-9A-Z]{15,20})(?![0-9A-Za-z<>/*+-])"
MONEY_TOKEN = re.compile(r"[¥￥]\s*(-?[\d,]+\.\d+)|(\*{3})")
WHITESPACE = re.compile(r"[\s\u3000]+")

CODE = label("发票代码")
NUMBER = label("发票号码")
DATE = label("开票日期")
CHECK = label("校验码")
MACHINE = label("机器编号")
NAME = r"(?<![目务物方客])" + label("名称") + r"[ \u3000]*[:：]"
TAX_ID = r"(?:" + label("统一社会信用代码") + r"\s*/\s*)?" + label("纳税人识别号")
ADDRESS = label("地址") + r"[、,，\s]*" + label("电话")
ACCOUNT = label("开户行及账号")


def read_date(layout: Layout) -> dt.date | None:
    """开票日期, in any of its printed forms."""
    return values.date(layout.value(DATE, SEP + r"(\d{4}\s*年?\s*\d{1,2}\s*月?\s*\d{1,2})"))
