"""The fields printed on a photo or scan, read from its OCR text (``ocr.PageText``).

First the kind of invoice is told from what is printed (titles, labels, the shape of a
train ticket), then one layout reader per kind maps the text to canonical fields:
taxi receipts, paper train tickets, quota invoices, toll receipts, air itineraries,
and VAT invoices (paper, roll and e-invoice pictures, read by ``printed`` like a PDF
page). A kind no reader knows still gives what any invoice prints: code, number,
date, total.

OCR misreads: labels are matched loosely (a title reads 增值税支用发票), values by
their shape near their label, and arithmetic (amount + tax = total, the total in words)
corrects a misread figure or flags it (``arithmetic``). Several receipts in one photo
are told apart by their own 发票代码 label (``split``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from fapiao.catalogue.types import InvoiceType
from fapiao.model import FlightSegment
from fapiao.recognize import values
from fapiao.recognize.labels import read_date
from fapiao.recognize.layout import Layout
from fapiao.recognize.ocr import PageText, TextBox, confidence_of, layout_of
from fapiao.recognize.printed import read as read_printed
from fapiao.recognize.result import Reading

T = InvoiceType


@dataclass
class PhotoReading:
    """What OCR read of one invoice: canonical fields, each one's confidence, and notes."""

    reading: Reading
    confidence: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- which kind ------------------------------------------------------------------------

_COMPACT = re.compile(r"[\s\u3000]+")


def kind_of(text: str) -> InvoiceType | None:
    """The kind of invoice the text of a page shows, None for one no reader knows."""
    compact = _COMPACT.sub("", text)
    if "行程单" in compact or ("航班" in compact and "客票" in compact):
        return T.FLIGHT_ITINERARY
    if re.search(r"出租|的士", compact) or ("上车" in compact and "下车" in compact):
        return T.TAXI
    if _TRAIN_JOURNEY.search(text) or re.search(r"限乘当日|中国铁路|12306", compact):
        return T.TRAIN
    if "通行费" in compact or re.search(r"入口.*出口|收费站", compact):
        return T.TOLL
    if "定额" in compact:
        return T.QUOTA
    if re.search(r"卷[票式]", compact):
        return T.VAT_ROLL
    if re.search(r"纳税人识别号|价税合计|开票日期|校验码", compact):
        return _vat_title(compact)
    return None


def _vat_title(compact: str) -> InvoiceType:
    """The VAT type a title names, read loosely: OCR drops or swaps a character of it."""
    digital = re.search(r"电子发票[（(]", compact)
    special = re.search(r"专用?发票|支用发票", compact)
    if digital:
        return T.DIGITAL_SPECIAL if special else T.DIGITAL_NORMAL
    if "电子" in compact:
        return T.VAT_ELECTRONIC_SPECIAL if special else T.VAT_ELECTRONIC_NORMAL
    return T.VAT_SPECIAL if special else T.VAT_NORMAL


# --- one photo, several receipts -------------------------------------------------------

_ANCHOR = re.compile(r"发票代码")


def split(page: PageText) -> list[list[TextBox]]:
    """The boxes of each invoice on the page: one group unless the page shows several
    receipts side by side or stacked, each with its own 发票代码 label."""
    anchors = [box for box in page.boxes if _ANCHOR.search(box.text)]
    if len(anchors) < 2:
        return [page.boxes]
    groups: list[list[TextBox]] = [[] for _ in anchors]
    for box in page.boxes:
        groups[_nearest(anchors, box)].append(box)
    return [group for group in groups if group]


def _nearest(anchors: list[TextBox], box: TextBox) -> int:
    """The anchor a box belongs to: the one whose receipt column holds it, above it (a
    receipt's title sits a little above its code label) and closest."""
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2

    def cost(anchor: TextBox) -> float:
        width = anchor.right - anchor.left
        height = anchor.bottom - anchor.top
        dx = max(anchor.left - width * 0.5 - cx, cx - anchor.right - width * 1.2, 0.0)
        dy = cy - anchor.top
        above = max(-dy - 4 * height, 0.0)  # titles stand up to ~4 lines above the code
        return dx * 4 + above * 4 + abs(dy) * 0.1

    return min(range(len(anchors)), key=lambda i: cost(anchors[i]))


# --- read ------------------------------------------------------------------------------


def read_page(page: PageText) -> list[PhotoReading]:
    """One reading per invoice the page shows (none when nothing of an invoice is read)."""
    found = []
    for boxes in split(page):
        reading = read_boxes(boxes)
        if reading is not None:
            found.append(reading)
    return found


def read_boxes(boxes: list[TextBox]) -> PhotoReading | None:
    layout = layout_of(boxes)
    invoice_type = kind_of(layout.text)
    if invoice_type is None:
        reading = read_any(layout)
    else:
        reading = _READERS.get(invoice_type, read_vat)(layout, invoice_type)
    reading = {
        name: _cents(value) for name, value in reading.items() if value not in (None, "", [])
    }
    if not reading or set(reading) == {"invoice_type"}:
        return None
    photo = PhotoReading(reading)
    photo.warnings.extend(arithmetic(photo.reading, layout.text))
    for name, value in photo.reading.items():
        if name in ("invoice_type", "items"):
            continue
        score = confidence_of(boxes, values.show(value) if name != "receipt_date" else "")
        photo.confidence[name] = round(score if score is not None else _mean(boxes), 3)
    return photo


def _cents(value: object) -> object:
    """Money as printed on e-invoices, two decimals: a ticket's ¥357.0 is 357.00."""
    if isinstance(value, Decimal) and value.as_tuple().exponent != -2:
        return value.quantize(Decimal("0.01"))
    return value


def _mean(boxes: list[TextBox]) -> float:
    return sum(b.confidence for b in boxes) / len(boxes) if boxes else 0.0


# --- shared value shapes ---------------------------------------------------------------

_CODE = re.compile(r"发\s*票\s*代\s*码\s*[:：]?\s*(\d{10,12})")
_NUMBER = re.compile(r"(?:发\s*票\s*号\s*码|No|NO|N0)\s*[:：.]?\s*(\d{8,9}|\d{20})(?!\d)")
_DATE = re.compile(r"(20\d{2})\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})")
_TIME = re.compile(r"(?<![\d:：])([0-2]?\d)\s*[:：]\s*([0-5]\d)(?!\s*[:：]?\s*\d)")
# Money: a figure with two decimals, after ¥ (often misread as 年 or 羊) or before 元.
_MONEY = re.compile(r"(?:[¥￥羊年Y]\s*(\d+(?:\.\d{1,2}))|(\d+\.\d{1,2})\s*元)")


def _search(pattern: re.Pattern[str] | str, text: str, group: int = 1) -> str | None:
    match = re.search(pattern, text)
    return match.group(group) if match else None


def _number(text: str) -> str | None:
    """发票号码: 8 digits (20 on 数电); a stray ninth digit read from the box is dropped."""
    found = _search(_NUMBER, text)
    if found is not None and len(found) == 9:
        return found[1:] if found[0] in "60" else found[:8]
    return found


def _check_code(text: str) -> str | None:
    """校验码: 20 digits, which OCR may space out."""
    return values.digits(_search(r"校\s*验\s*码\s*[:：]?\s*((?:\d ?){20})", text), 20)


def _any_date(text: str) -> object:
    match = _DATE.search(text)
    if match is None:
        return None
    year, month, day = match.groups()
    return values.date(f"{year}{int(month):02d}{int(day):02d}")


def _money_values(text: str) -> list[Decimal]:
    found = []
    for match in _MONEY.finditer(text):
        value = values.money(match.group(1) or match.group(2))
        if value is not None:
            found.append(value)
    return found


def _hhmm(hour: str, minute: str) -> str:
    return f"{int(hour):02d}:{minute}"


# --- taxi ------------------------------------------------------------------------------


def read_taxi(layout: Layout, _: InvoiceType | None = None) -> Reading:
    """出租车发票: the values stand in a column right of their labels, and a receipt
    printer often shifts them a line down, so values are read by their shape in label
    order (times: board then alight; money: unit price then the fare)."""
    text = layout.text
    start = layout.find_line(r"车\s*号|机打") or 0
    lower = "\n".join(line.text for line in layout.lines[start:])
    times = [_hhmm(h, m) for h, m in _TIME.findall(lower)]
    money = _money_values(lower)
    fare = next((value for value in money[1:] if value > 0), None)
    return {
        "invoice_type": T.TAXI,
        "invoice_code": _search(_CODE, text),
        "invoice_number": _number(text),
        "receipt_date": _any_date(lower) or _any_date(text),
        "start_time": times[0] if times else None,
        "end_time": times[1] if len(times) > 1 else None,
        "mileage": values.money(_search(r"(\d+(?:\.\d+)?)\s*[kK][mM]", lower)),
        "total_amount": fare,
        "seller_name": values.name(_search(r"单位名称\s*[:：]?\s*(\S+)", text)),
        "plate_number": _search(
            r"车\s*号\s*[:：]?\s*([A-Z京津沪渝粤][A-Z0-9]{5,6})(?![A-Z0-9])", text
        ),
    }


# --- paper train ticket ----------------------------------------------------------------

_TRAIN_JOURNEY = re.compile(
    r"([\u4e00-\u9fff]{1,8}?)站\s*([GDCZTKYSL]?\d{1,5})\s*([\u4e00-\u9fff]{1,8}?)站"
)
_TRAIN_CLASS = re.compile(
    r"((?:新空调)?(?:商务座|特等座|一等座|二等座|高级软卧|软卧|硬卧|软座|硬座|动卧|一等卧|二等卧))"
)


def read_train(layout: Layout, _: InvoiceType | None = None) -> Reading:
    """火车票 (the red-serial paper ticket): serial top left, then the journey line
    (from 站, train, to 站), the date and time of departure, seat, fare, class, and the
    passenger's masked ID number and name."""
    text = layout.text
    journey = _TRAIN_JOURNEY.search(text)
    departure = re.search(
        r"(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(\d{1,2})\s*[:：]\s*(\d{2})", text
    )
    passenger = re.search(r"(\d{6,10}\*{4}\d{3}[\dXx])\s*([\u4e00-\u9fff·]{2,5})", text)
    fare = _search(r"[¥￥羊Y]\s*(\d+(?:\.\d{1,2})?)\s*元", text)
    reading: Reading = {
        "invoice_type": T.TRAIN,
        "invoice_number": _train_serial(layout),
        "train_number": journey.group(2) if journey else None,
        "destination_city": journey.group(1) if journey else None,
        "destination_city_to": journey.group(3) if journey else None,
        # 无座 (standing) is printed where the seat goes; the class stands apart
        "train_class": _search(_TRAIN_CLASS, text) or ("无座" if "无座" in text else None),
        "total_amount": values.money(fare),
        "fare": values.money(fare),
        "seat": _search(r"(\d{1,2}车(?:\d{1,3}[A-F]?号(?:[上中下]铺)?|无座))", text),
    }
    if departure is not None:
        year, month, day, hour, minute = departure.groups()
        reading["receipt_date"] = values.date(f"{year}{int(month):02d}{int(day):02d}")
        reading["start_datetime"] = _hhmm(hour, minute)
    if passenger is not None:
        reading["id_card"] = passenger.group(1).upper()
        reading["passenger_name"] = passenger.group(2)
    return reading


def railway_serial(code_text: str) -> str | None:
    """The serial a paper ticket's 2D code repeats: its 144 digits start with the serial's
    letter as an alphabet index (A=00 … Z=25) and the serial's 6 digits."""
    if not re.fullmatch(r"\d{144}", code_text):
        return None
    index, digits = int(code_text[:2]), code_text[2:8]
    return f"{chr(ord('A') + index)}{digits}" if index < 26 else None


def confirm_serial(reading: PhotoReading, serial: str) -> None:
    """A train ticket's serial as OCR read it, checked against its 2D code: the code's
    letter and six digits stand, the printed prefix (020P…) stays."""
    printed = str(reading.reading.get("invoice_number") or "")
    if printed.endswith(serial):
        reading.confidence["invoice_number"] = 1.0
        return
    prefix = printed[: -len(serial)] if len(printed) > len(serial) else ""
    reading.reading["invoice_number"] = prefix + serial
    reading.confidence["invoice_number"] = 1.0
    reading.warnings.append(f"serial read {printed!r}, the ticket's 2D code says {serial!r}")


def _train_serial(layout: Layout) -> str | None:
    """The red serial printed top left (Z080334, 020P071731, Z122M044877): the first
    token of that shape on the page; the sale line at the bottom repeats its end."""
    for line in layout.lines[:4]:
        match = re.search(r"(?<![0-9A-Z])([0-9A-Z]{0,4}[A-Z]\d{6})(?![0-9A-Z])", line.text)
        if match:
            return match.group(1)
    return None


# --- quota, toll, itinerary, anything else ---------------------------------------------

_CAPITAL = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def read_quota(layout: Layout, _: InvoiceType | None = None) -> Reading:
    """定额发票: code, number and the face value (in figures, or in capitals only); the
    seller is printed in the seal, if anywhere (a label saying 盖章有效 is no name)."""
    text = layout.text
    figure = _search(r"[¥￥羊Y]\s*(\d+(?:\.\d{1,2})?)(?![\d.])", text)
    words = words_amount(_search(r"([零壹贰叁肆伍陆柒捌玖拾佰仟万圆元角分整]{2,})", text) or "")
    seller = _search(r"(?:单位名称|销售方名称|收款单位)\s*[:：]?\s*([^\s(（][^\t]*)", text)
    return {
        "invoice_type": T.QUOTA,
        "invoice_code": _search(_CODE, text),
        "invoice_number": _number(text),
        "receipt_date": _any_date(text),
        "total_amount": values.money(figure) if figure else words,
        "seller_name": values.name(seller),
        "company_seal": bool(re.search(r"专用章", text)) or None,
    }


def read_toll(layout: Layout, _: InvoiceType | None = None) -> Reading:
    """过路费发票 (toll receipt): entrance and exit (出 is often read 用 or 山), the
    amount, the date and time."""
    text = layout.text
    money = _money_values(text)
    when = re.search(_DATE.pattern + r"\D{0,3}?(\d{1,2}):(\d{2})", text)  # a date, then a time
    return {
        "invoice_type": T.TOLL,
        "invoice_code": _search(_CODE, text),
        "invoice_number": _number(text),
        "receipt_date": _any_date(text),
        "start_time": _hhmm(when.group(4), when.group(5)) if when else None,
        "destination_city": values.name(_search(r"入\s*口\s*(?:站)?\s*[:：]?\s*([^\s:：]+)", text)),
        "destination_city_to": values.name(
            _search(r"[出用山]\s*口\s*(?:站)?\s*[:：]?\s*([^\s:：]+)", text)
        ),
        "total_amount": money[-1] if money else None,
    }


def read_itinerary(layout: Layout, _: InvoiceType | None = None) -> Reading:
    """航空运输电子客票行程单 (paper): bilingual headings with their values on the line
    below, in the same column (``below``); the legs on the 自/至 lines."""
    text = layout.text

    def money(heading: str) -> Decimal | None:
        return values.money(_search(r"(\d+(?:\.\d{1,2})?)", below(layout, heading) or ""))

    reading: Reading = {
        "invoice_type": T.FLIGHT_ITINERARY,
        "invoice_number": _search(r"印\s*刷\s*序\s*号\s*[:：]?\s*(\d{10})", text),
        "passenger_name": values.name(
            _search(r"([\u4e00-\u9fff·]{2,8})", below(layout, "旅客姓名") or "")
        ),
        "id_card": _search(r"([0-9A-Za-z*]{6,18})", below(layout, "有效身份证件号码") or ""),
        "fare": money("票价"),
        "civil_avn_dev_fund": money("民航发展基金"),
        "fuel_surcharge": money("燃油附加费"),
        "other_taxes": money("其他税费"),
        "total_amount": money("合计"),
        "check_code": _search(r"(\d{4})", below(layout, "验证码") or ""),
        "seller_name": values.name(below(layout, "填开单位")),
        "receipt_date": _any_date(below(layout, "填开日期") or "") or _any_date(text),
        "insurance": money("保险费"),
    }
    leg = _itinerary_leg(layout)
    if leg:
        reading["flight_detail"] = [leg]
        reading["international_flag"] = "D"
    return reading


def below(layout: Layout, heading: str) -> str | None:
    """The value printed under ``heading``: on the next line, the segment whose span
    overlaps the heading's most."""
    pattern = re.compile(r"\s*".join(map(re.escape, heading)))
    for index, line in enumerate(layout.lines[:-1]):
        for segment in line.segments:
            if not pattern.search(segment.text):
                continue
            best, overlap = None, 0.0
            for candidate in layout.lines[index + 1].segments:
                shared = min(segment.x1, candidate.x1) - max(segment.x0, candidate.x0)
                if shared > overlap:
                    best, overlap = candidate, shared
            return best.text if best is not None else None
    return None


def _itinerary_leg(layout: Layout) -> FlightSegment | None:
    start = layout.find_line(r"^自|自\s*FROM")
    if start is None:
        return None
    cells = [segment.text for segment in layout.lines[start].segments]
    joined = " ".join(cells)
    flight = _search(r"(?<![A-Z0-9])([A-Z0-9]{2}\d{3,4})(?![0-9])", joined)
    when = _search(r"(20\d{2}-\d{2}-\d{2}|\d{1,2}[A-Z]{3})", joined)
    at = re.search(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)", joined)
    departure = _search(r"自\s*(?:FROM)?\s*([\u4e00-\u9fff]{2,10})", joined)
    arrival = None
    if start + 1 < len(layout.lines):
        arrival = _search(r"至\s*(?:TO)?\s*([\u4e00-\u9fff]{2,10})", layout.lines[start + 1].text)
    carrier = next((c for c in cells[1:] if re.fullmatch(r"[\u4e00-\u9fff]{2,8}", c)), None)
    if flight is None and departure is None:
        return None
    return FlightSegment(
        departure=departure,
        arrival=arrival,
        date=when,
        time=_hhmm(*at.groups()) if at else None,
        flight_number=flight,
        carrier=carrier,
    )


def read_any(layout: Layout) -> Reading:
    """A kind no reader knows: what every invoice prints, where it can be found."""
    text = layout.text
    number = _number(text)
    if number is None:
        return {}
    money = _money_values(text)
    return {
        "invoice_type": T.OTHER,
        "invoice_code": _search(_CODE, text),
        "invoice_number": number,
        "receipt_date": _any_date(text),
        "total_amount": max(money) if money else None,
    }


# --- VAT invoices ----------------------------------------------------------------------


def read_roll(layout: Layout, _: InvoiceType | None = None) -> Reading:
    """增值税普通发票(卷票): one column, the seller first (名称 then its 纳税人识别号),
    then the buyer; the total on the 合计金额(小写) line."""
    text = layout.text
    seller = re.search(r"销\s*售\s*方\s*名\s*称\s*[:：]?\s*([^\t\n]+)", text)
    buyer = re.search(r"购\s*买\s*方\s*名\s*称\s*[:：]?\s*([^\t\n]+)", text)
    ids = re.findall(r"纳\s*税\s*人\s*识\s*别\s*号\s*[:：]?\s*([0-9A-Z]{15,20})", text)
    seller_first = seller is None or buyer is None or seller.start() < buyer.start()
    first, second = [*ids, None, None][:2]
    seller_id, buyer_id = (first, second) if seller_first else (second, first)
    total = _search(r"小\s*写\s*[)）]?\s*[:：]?\s*[¥￥羊Y]?\s*(\d+\.\d{2})", text)
    return {
        "invoice_type": T.VAT_ROLL,
        "invoice_code": _search(_CODE, text),
        "invoice_number": _number(text),
        "receipt_date": _any_date(text),
        "machine_number": _search(r"机\s*器\s*编\s*号\s*[:：]?\s*(\d{12})", text),
        "seller_name": values.name(seller.group(1).strip()) if seller else None,
        "buyer_name": values.name(buyer.group(1).strip()) if buyer else None,
        "seller_tax_code": values.tax_id(seller_id),
        "buyer_tax_code": values.tax_id(buyer_id),
        "total_amount": values.money(total),
        "check_code": _check_code(text),
    }


def read_vat(layout: Layout, invoice_type: InvoiceType) -> Reading:
    """VAT invoices in a picture: the PDF reader of ``printed`` over the OCR layout, then
    what OCR splits differently from a text layer (No12345678 beside the title, a code
    printed apart from its label, a date with its 年月日 read loosely)."""
    reading = dict(read_printed(layout, invoice_type))
    text = layout.text
    if invoice_type is T.VAT_ROLL:
        reading["invoice_type"] = T.VAT_ROLL
    if not reading.get("invoice_number"):
        reading["invoice_number"] = _number(text)
    if not reading.get("invoice_code"):
        reading["invoice_code"] = _search(_CODE, text) or _search(
            r"(?<!\d)(\d{12}|\d{10})(?!\d)", "\n".join(line.text for line in layout.lines[:4])
        )
    if not reading.get("receipt_date"):
        reading["receipt_date"] = read_date(layout) or _any_date(text)
    if not reading.get("check_code"):
        reading["check_code"] = _check_code(text)
    for name, label in (
        ("name", r"名\s*称\s*[:：]?"),
        ("address_phone", r"地\s*址\s*[、,，]?\s*电\s*话\s*[:：]?"),
        ("account", r"开\s*户\s*行\s*及\s*[账帐]\s*号\s*[:：]?"),
    ):
        # OCR puts a value in its own box, behind a column break the PDF reader stops at
        found = [v for v in layout.values(label, r"[\s:：]*([^\t<>*/+]{2,})") if v]
        for index, party in enumerate(("buyer", "seller")):
            if not reading.get(f"{party}_{name}") and len(found) > index:
                reading[f"{party}_{name}"] = values.name(found[index].strip())
    buyer_id, seller_id = _party_tax_ids(layout)
    reading["buyer_tax_code"] = reading.get("buyer_tax_code") or buyer_id
    reading["seller_tax_code"] = reading.get("seller_tax_code") or seller_id
    for party in ("buyer_name", "seller_name"):
        if isinstance(reading.get(party), str):
            reading[party] = _half_width_brackets(str(reading[party]))
    return reading


_TAX_ID_TOKEN = re.compile(r"(?<![0-9A-Za-z*<>/+-])([0-9][0-9A-Z]{14,19})(?![0-9A-Za-z*<>/+-])")


def _party_tax_ids(layout: Layout) -> tuple[str | None, str | None]:
    """Tax ids that OCR put on a line apart from their label: the buyer's is printed
    above the 价税合计 line, the seller's below it (the cipher area's characters never
    pass for one: they mix in * < > / + -)."""
    split_at = layout.find_line(r"价\s*税\s*合\s*计|大\s*写")
    if split_at is None:
        return None, None

    def first(lines: list[str]) -> str | None:
        for text in lines:
            for match in _TAX_ID_TOKEN.finditer(text):
                found = values.tax_id(match.group(1))
                # a letter, or the old 15 digits: never a 20-digit check code nor a phone
                if found and (re.search(r"[A-Z]", found) or len(found) == 15):
                    return found
        return None

    texts = [line.text for line in layout.lines]
    return first(texts[:split_at]), first(texts[split_at + 1 :])


def _half_width_brackets(text: str) -> str:
    """Names are compared and stored with ASCII brackets, as e-invoices print them."""
    return text.replace("（", "(").replace("）", ")")


# --- arithmetic ------------------------------------------------------------------------


def words_amount(words: str) -> Decimal | None:
    """An amount in capitals (柒仟零壹拾捌圆捌角叁分, 壹佰壹拾贰圆贰角整) as a Decimal."""
    words = words.replace("元", "圆").replace("正", "整")
    match = re.fullmatch(
        r"([零壹贰叁肆伍陆柒捌玖拾佰仟万]*)圆?(?:([零壹贰叁肆伍陆柒捌玖])角)?"
        r"(?:([零壹贰叁肆伍陆柒捌玖])分)?整?",
        words,
    )
    if match is None or not words:
        return None
    whole_text, jiao, fen = match.groups()
    whole = _capital_integer(whole_text or "")
    if whole is None:
        return None
    cents = (_CAPITAL.index(jiao) * 10 if jiao else 0) + (_CAPITAL.index(fen) if fen else 0)
    return Decimal(whole) + Decimal(cents) / 100


def _capital_integer(text: str) -> int | None:
    total = section = digit = 0
    for char in text:
        if char in _CAPITAL:
            digit = _CAPITAL.index(char)
        elif char in _CAPITAL_UNITS:
            section += (digit or 1) * _CAPITAL_UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        else:
            return None
    return total + section + digit


def arithmetic(reading: Reading, text: str) -> list[str]:
    """Amount + tax = total, and the total in words = in figures: a missing figure is
    computed, a misread one corrected when the others agree, a conflict flagged."""
    notes: list[str] = []
    amount, tax, total = (reading.get(name) for name in ("amount", "tax_amount", "total_amount"))
    in_words = words_amount(
        _search(r"[（(]?大写[)）]?\s*[:：]?\s*([零壹贰叁肆伍陆柒捌玖拾佰仟万圆元角分整正]+)", text)
        or ""
    )
    if isinstance(in_words, Decimal) and in_words != total:
        if total is not None:
            notes.append(f"total {total} read in figures, {in_words} in words: the words stand")
        reading["total_amount"] = total = in_words
    if isinstance(amount, Decimal) and isinstance(tax, Decimal):
        if total is None:
            reading["total_amount"] = amount + tax
        elif amount + tax != total:
            notes.append(f"amount {amount} + tax {tax} != total {total}: a figure was misread")
    elif isinstance(total, Decimal) and isinstance(amount, Decimal) and tax is None:
        if amount <= total:
            reading["tax_amount"] = total - amount
    elif (
        isinstance(total, Decimal) and isinstance(tax, Decimal) and amount is None and tax <= total
    ):
        reading["amount"] = total - tax
    return notes


# The reader of each kind with a layout of its own; every other kind is a VAT invoice.
_READERS: dict[InvoiceType, Callable[[Layout, InvoiceType], Reading]] = {
    T.TAXI: read_taxi,
    T.TRAIN: read_train,
    T.FLIGHT_ITINERARY: read_itinerary,
    T.TOLL: read_toll,
    T.QUOTA: read_quota,
    T.VAT_ROLL: read_roll,
}
