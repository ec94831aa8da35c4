"""The layout readers of photos (``recognize.photo``) on text boxes as OCR gives them:
boxes placed as on real receipts, with the misreads real photos show (a ¥ read as 年,
a taxi printer's values a line below their labels, a title with a wrong character)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from fapiao.catalogue.types import InvoiceType
from fapiao.recognize import Source, photo
from fapiao.recognize.ocr import PageText, TextBox, layout_of

T = InvoiceType


def box(text: str, x: float, y: float, *, w: float | None = None, h: float = 30) -> TextBox:
    width = w if w is not None else 28 * len(text)
    corners = ((x, y), (x + width, y), (x + width, y + h), (x, y + h))
    return TextBox(text, corners, 0.97)


def lines(*rows: tuple[str, ...], x: float = 40, step: float = 60) -> list[TextBox]:
    """One box per cell: each row's cells side by side, rows ``step`` apart."""
    boxes = []
    for index, row in enumerate(rows):
        left = x
        for cell in row:
            boxes.append(box(cell, left, 40 + index * step))
            left += 28 * len(cell) + 120
    return boxes


TAXI = lines(
    ("深圳市出租汽车专用发票",),
    ("发票代码144032370119",),
    ("发票号码12199866",),
    ("单位名称：深圳巴士集团龙岗公共汽车有限公司",),
    ("机打发票手写无效",),
    ("车号：", "BAV9188"),
    ("证号：", "9000023821"),
    ("日期：", "2023年12月13日"),
    ("上车：", "23:06"),
    ("下车：", "23:34"),
    ("单价：", "3.51元"),
    ("里程：", "19.05KM"),
    ("等候：", "00:05:52"),
    ("金额：", "年78.00元"),
)


def test_a_taxi_receipt_gives_every_printed_field() -> None:
    read = photo.read_boxes(TAXI)
    assert read is not None
    assert read.reading == {
        "invoice_type": T.TAXI,
        "invoice_code": "144032370119",
        "invoice_number": "12199866",
        "receipt_date": dt.date(2023, 12, 13),
        "start_time": "23:06",
        "end_time": "23:34",
        "mileage": Decimal("19.05"),
        "total_amount": Decimal("78.00"),  # ¥ read as 年; the waiting time is no fare
        "seller_name": "深圳巴士集团龙岗公共汽车有限公司",
        "plate_number": "BAV9188",
    }
    assert set(read.confidence) == set(read.reading) - {"invoice_type"}
    assert all(0 < score <= 1 for score in read.confidence.values())


def test_taxi_values_printed_a_line_below_their_labels_are_read_in_label_order() -> None:
    labels = ("车号：", "日期：", "上车：", "下车：", "单价：", "里程：", "金额：", "另收附加费：")
    values = ("B0E6452", "2023年12月16日", "20:30", "20:52", "2.70元", "7.32KM", "¥24.50元")
    head = lines(("深圳市出租汽车专用发票",), ("发票代码144032370119",), ("发票号码13109125",))
    shifted = [box(label, 40, 400 + 60 * i) for i, label in enumerate(labels)]
    shifted += [box(value, 400, 430 + 60 * i) for i, value in enumerate(values)]
    read = photo.read_boxes(head + shifted)
    assert read is not None
    assert (read.reading["start_time"], read.reading["end_time"]) == ("20:30", "20:52")
    assert read.reading["total_amount"] == Decimal("24.50")
    assert read.reading["mileage"] == Decimal("7.32")


TICKET = lines(
    ("020P071731",),
    ("随州站", "D5224", "武汉站"),
    ("Suizhou", "Wuhan"),
    ("2019年05月23日16:49开", "08车无座"),
    ("￥61.5元", "网折", "二等座"),
    ("限乘当日当次车",),
    ("4201041989****0826李扬",),
    ("29381300200524P071731 随州站售",),
)


def test_a_paper_train_ticket_gives_every_printed_field() -> None:
    read = photo.read_boxes(TICKET)
    assert read is not None
    assert read.reading == {
        "invoice_type": T.TRAIN,
        "invoice_number": "020P071731",
        "train_number": "D5224",
        "destination_city": "随州",
        "destination_city_to": "武汉",
        "train_class": "二等座",  # 无座 is where the seat goes, not the class
        "total_amount": Decimal("61.50"),
        "fare": Decimal("61.50"),
        "seat": "08车无座",
        "receipt_date": dt.date(2019, 5, 23),
        "start_datetime": "16:49",
        "id_card": "4201041989****0826",
        "passenger_name": "李扬",
    }


def test_the_tickets_2d_code_confirms_or_corrects_the_serial() -> None:
    code = "15071731" + "0" * 136  # P = 15, then the serial's six digits
    assert photo.railway_serial(code) == "P071731"
    assert photo.railway_serial("1234") is None
    misread = photo.read_boxes(TICKET)
    assert misread is not None
    misread.reading["invoice_number"] = "020F071731"
    photo.confirm_serial(misread, "P071731")
    assert misread.reading["invoice_number"] == "020P071731"
    assert "2D code" in misread.warnings[0]


VAT = lines(
    ("1100094140", "增值税支用发票", "No87654321"),  # 专 misread as 支
    ("开票日期：2010年11月18日",),
    ("名称：测试购方企业",),
    ("纳税人识别号：410305123456789",),
    ("合计", "¥5999.00", "¥1019.83"),
    ("价税合计（大写）", "柒仟零壹拾捌圆捌角叁分", "（小写）¥7018.33"),  # 8 misread as 3
    ("名称：测试销方企业",),
    ("纳税人识别号：",),
    ("410305012345678",),  # the value a line below its label
)


def test_a_vat_photo_is_read_and_its_arithmetic_corrects_a_misread_total() -> None:
    read = photo.read_boxes(VAT)
    assert read is not None
    fields = read.reading
    assert fields["invoice_type"] is T.VAT_SPECIAL
    assert (fields["invoice_code"], fields["invoice_number"]) == ("1100094140", "87654321")
    assert fields["receipt_date"] == dt.date(2010, 11, 18)
    assert (fields["buyer_name"], fields["seller_name"]) == ("测试购方企业", "测试销方企业")
    assert fields["buyer_tax_code"] == "410305123456789"
    assert fields["seller_tax_code"] == "410305012345678"
    assert (fields["amount"], fields["tax_amount"]) == (Decimal("5999.00"), Decimal("1019.83"))
    assert fields["total_amount"] == Decimal("7018.83")  # the words and amount + tax agree
    assert any("in words" in note for note in read.warnings)


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("柒仟零壹拾捌圆捌角叁分", "7018.83"),
        ("壹佰壹拾贰圆贰角整", "112.20"),
        ("伍拾贰圆柒角", "52.70"),
        ("壹仟伍佰圆整", "1500"),
        ("壹拾万零叁佰圆整", "100300"),
        ("拾元", "10"),
    ],
)
def test_amounts_in_capitals(words: str, value: str) -> None:
    assert photo.words_amount(words) == Decimal(value)


def test_a_conflict_arithmetic_cannot_settle_is_flagged() -> None:
    reading: dict[str, object] = {
        "amount": Decimal("100.00"),
        "tax_amount": Decimal("13.00"),
        "total_amount": Decimal("118.00"),
    }
    notes = photo.arithmetic(reading, "no words here")
    assert reading["total_amount"] == Decimal("118.00")
    assert notes and "misread" in notes[0]
    missing_tax: dict[str, object] = {"amount": Decimal("100.00"), "total_amount": Decimal("113")}
    photo.arithmetic(missing_tax, "")
    assert missing_tax["tax_amount"] == Decimal("13")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("深圳市出租汽车专用发票 上车 下车", T.TAXI),
        ("清远站 G634 宜春站\n限乘当日当次车", T.TRAIN),
        ("航空运输电子客票行程单", T.FLIGHT_ITINERARY),
        ("广东省通行费发票 入口 出口", T.TOLL),
        ("北京市通用定额发票 壹拾元", T.QUOTA),
        ("增值税普通发票(卷票) 开票日期", T.VAT_ROLL),
        ("深圳增镇税普通发票 开票日期 纳税人识别号", T.VAT_NORMAL),
        ("电子发票（增值税专用发票） 价税合计", T.DIGITAL_SPECIAL),
        ("a shopping list", None),
    ],
)
def test_the_kind_is_told_from_what_is_printed(text: str, kind: InvoiceType | None) -> None:
    assert photo.kind_of(text) is kind


def test_a_kind_no_reader_knows_still_gives_what_it_could_read() -> None:
    read = photo.read_boxes(lines(("某某公司收据",), ("发票号码 00112233",), ("合计 ¥88.00",)))
    assert read is not None
    assert read.reading["invoice_type"] is T.OTHER
    assert read.reading["invoice_number"] == "00112233"
    assert read.reading["total_amount"] == Decimal("88.00")
    assert photo.read_boxes(lines(("nothing",), ("at all",))) is None


def test_receipts_side_by_side_are_read_one_by_one() -> None:
    left = lines(("深圳市出租汽车专用发票",), ("发票代码144032370119",), ("发票号码11111111",))
    right = lines(
        ("深圳市出租汽车专用发票",),
        ("发票代码144032370219",),
        ("发票号码22222222",),
        x=900,
    )
    below = lines(("深圳市出租汽车专用发票",), ("发票代码144032370319",), ("发票号码33333333",))
    below = [box(b.text, b.left, b.top + 600) for b in below]
    page = PageText(left + right + below, (1800, 1200), 0)
    numbers = sorted(str(r.reading.get("invoice_number")) for r in photo.read_page(page))
    assert numbers == ["11111111", "22222222", "33333333"]


def test_a_slanted_photo_is_levelled_into_lines() -> None:
    angle = math.radians(4)
    boxes = []
    for row, cells in enumerate((("发票代码", "144032370119"), ("发票号码", "13109125"))):
        for column, text in enumerate(cells):
            x, y = 40 + column * 400, 40 + row * 60
            # every point turned 4° about the origin, as a photo taken at a slant
            turned = [
                (
                    px * math.cos(angle) - py * math.sin(angle),
                    px * math.sin(angle) + py * math.cos(angle),
                )
                for px, py in ((x, y), (x + 300, y), (x + 300, y + 30), (x, y + 30))
            ]
            boxes.append(TextBox(text, tuple(turned), 0.9))
    texts = [line.text for line in layout_of(boxes)]
    assert texts == ["发票代码\t144032370119", "发票号码\t13109125"]


# --- when the OCR cannot help ----------------------------------------------------------


def _qr_photo() -> tuple[bytes, str]:
    from fixtures.generate import qr_photo, vat_spec

    spec = vat_spec(21)
    return qr_photo([spec.qr_payload()], size=(600, 400)), spec.invoice_number


def test_an_ocr_failure_costs_what_it_would_add_not_the_qr_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fapiao.recognize import ocr, recognize_here

    def broken(_: object) -> PageText:
        raise RuntimeError("onnxruntime: bad_alloc")

    monkeypatch.setattr(ocr, "read_text", broken)
    data, number = _qr_photo()
    (result,) = recognize_here(data)
    assert result.invoice is not None and result.invoice.invoice_number == number
    assert any("OCR failed (onnxruntime: bad_alloc)" in note for note in result.warnings)


def test_without_the_ocr_package_a_picture_gives_its_qr_code_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Lambda function built without the OCR layer reads pictures as before."""
    from fapiao.recognize import ocr, recognize_here
    from fapiao.recognize.image import QR_ONLY

    monkeypatch.setattr(ocr, "available", lambda: False)
    data, number = _qr_photo()
    (result,) = recognize_here(data)
    assert result.invoice is not None and result.invoice.invoice_number == number
    assert QR_ONLY in result.warnings
    assert result.sources["invoice_number"] == [Source.QR]
