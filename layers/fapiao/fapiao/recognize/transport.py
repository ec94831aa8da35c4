"""数电 transport invoices: rail tickets (电子发票(铁路电子客票)) and flight itineraries
(电子发票(航空运输电子客票行程单)), read from their laid-out text."""

from __future__ import annotations

import re
from decimal import Decimal

from fapiao.catalogue.types import InvoiceType
from fapiao.dates import InvalidDate, parse_hhmm
from fapiao.model import FlightSegment
from fapiao.recognize import values
from fapiao.recognize.labels import (
    NEAR,
    NUMBER,
    SEP,
    TAX_ID,
    TAX_ID_VALUE,
    TEXT,
    WHITESPACE,
    read_date,
)
from fapiao.recognize.layout import Layout, Line, label
from fapiao.recognize.result import Reading

T = InvoiceType

# --- 数电 rail tickets ----------------------------------------------------------------

_TRAIN = re.compile(r"[GDCZTKYSL]\d{1,4}")
_SEAT = re.compile(
    r"商务座|特等座|一等座|二等座|高级软卧|软卧|硬卧|动卧|软座|硬座|无座|一等卧|二等卧"
)
_PASSENGER = re.compile(
    r"(?<![\d*])(\d{10}\*{4}\d{3}[\dX]|\d{17}[\dX])(?![\dX*])\s*([\u4e00-\u9fff·]{2,})"
)
_TIME = re.compile(r"(?<!\d)(\d{1,2}:\d{2})(?!\d)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def read_rail(layout: Layout) -> Reading:
    fare = values.money(layout.value(label("票价"), SEP + r"[¥￥]?\s*(\d+\.\d{2})"))
    reading: Reading = {
        "invoice_type": T.DIGITAL_RAIL,
        "invoice_number": layout.value(NUMBER, SEP + r"(\d{20})(?!\d)"),
        "receipt_date": read_date(layout),
        "total_amount": fare,
        "fare": fare,
        "buyer_name": values.name(layout.value(label("购买方名称"), NEAR + TEXT)),
        "buyer_tax_code": values.tax_id(
            layout.value(label("统一社会信用代码"), SEP + TAX_ID_VALUE)
        ),
    }
    for line in layout:  # each fact from the first line that has it
        if "destination_city" not in reading:
            reading.update(_journey(line))
        if "train_class" not in reading:
            reading.update(_seat(line))
        if "id_card" not in reading:
            reading.update(_passenger(line))
    return reading


def _journey(line: Line) -> Reading:
    """The train number, and the stations printed left and right of it."""
    trains = [s for s in line.segments if _TRAIN.fullmatch(s.text.strip())]
    if not trains:
        return {}
    train = trains[0]
    left = [s for s in line.segments if s.x1 <= train.x0 and _CJK.search(s.text)]
    right = [s for s in line.segments if s.x0 >= train.x1 and _CJK.search(s.text)]
    return {
        "train_number": train.text.strip(),
        "destination_city": values.name(left[0].text) if left else None,
        "destination_city_to": values.name(right[0].text) if right else None,
    }


def _seat(line: Line) -> Reading:
    """The seat class, and the departure time on its line."""
    seat = _SEAT.search(line.text)
    if not seat:
        return {}
    time = _TIME.search(line.text)
    return {
        "train_class": seat.group(0),
        "start_datetime": _hhmm(time.group(1)) if time else None,
    }


def _passenger(line: Line) -> Reading:
    """The passenger's (partly masked) ID card number and name."""
    passenger = _PASSENGER.search(line.text)
    if not passenger:
        return {}
    id_card, name = passenger.groups()
    return {"id_card": id_card, "passenger_name": name}


def _hhmm(text: str) -> str | None:
    try:
        return parse_hhmm(text)
    except InvalidDate:
        return None


# --- 数电 flight itineraries ----------------------------------------------------------

_LEG_COLUMNS = (
    ("自", "departure"),
    ("至", "arrival"),
    ("承运人", "carrier"),
    ("航班号", "flight_number"),
    ("座位等级", "seat"),
    ("日期", "date"),
    ("时间", "time"),
)


def _flight_money(layout: Layout, name: str) -> Decimal | None:
    return values.money(layout.value(label(name), SEP + r"([¥￥]?\s*-?[\d,]+\.\d{2})"))


def read_flight(layout: Layout) -> Reading:
    scope = layout.value(label("国内国际标识"), NEAR + r"(国内|国际)")
    reading: Reading = {
        "invoice_type": T.DIGITAL_FLIGHT,
        "invoice_number": layout.value(NUMBER, SEP + r"(\d{20})(?!\d)"),
        "receipt_date": read_date(layout),
        "passenger_name": values.name(layout.value(label("旅客姓名"), NEAR + TEXT)),
        "id_card": values.name(layout.value(label("有效身份证件号码"), NEAR + r"([\dX*]+)")),
        "fare": _flight_money(layout, "票价"),
        "fuel_surcharge": _flight_money(layout, "燃油附加费"),
        "tax_amount": _flight_money(layout, "增值税税额"),
        "tax_rate": values.tax_rate(layout.value(label("增值税税率"), SEP + r"(\d+(?:\.\d+)?%)")),
        "civil_avn_dev_fund": _flight_money(layout, "民航发展基金"),
        "other_taxes": _flight_money(layout, "其他税费"),
        "insurance": _flight_money(layout, "保险费"),
        "total_amount": _flight_money(layout, "合计"),
        "buyer_name": values.name(layout.value(label("购买方名称"), NEAR + TEXT)),
        "buyer_tax_code": values.tax_id(layout.value(TAX_ID, SEP + TAX_ID_VALUE)),
        "international_flag": {"国内": "D", "国际": "I"}.get(scope or ""),
        "flight_detail": _legs(layout),
    }
    return reading


def _legs(layout: Layout) -> list[FlightSegment]:
    header_index = layout.find_line(label("航班号"))
    if header_index is None:
        return []
    columns = _leg_columns(layout.lines[header_index])
    if not any(column == "flight_number" for _, column in columns):
        return []
    legs: list[FlightSegment] = []
    for line in layout.lines[header_index + 1 :]:
        cells: dict[str, str] = {}
        for segment in line.segments:
            column = min(columns, key=lambda pair: abs(pair[0] - segment.cx))[1]
            cells[column] = (cells.get(column, "") + segment.text).strip()
        if not re.fullmatch(r"[A-Z0-9]{2}\d{3,4}", cells.get("flight_number", "")):
            break
        legs.append(
            FlightSegment(
                departure=cells.get("departure"),
                arrival=cells.get("arrival"),
                carrier=cells.get("carrier"),
                flight_number=cells["flight_number"],
                seat=cells.get("seat"),
                date=cells.get("date"),
                time=_hhmm(cells["time"]) if "time" in cells else None,
            )
        )
    return legs


def _leg_columns(header: Line) -> list[tuple[float, str]]:
    """The centre of each leg column the header line names, with the field it holds."""
    columns: list[tuple[float, str]] = []
    for segment in header.segments:
        heading = WHITESPACE.sub("", segment.text)
        for word, column in _LEG_COLUMNS:
            if heading == word:
                columns.append((segment.cx, column))
    return columns
