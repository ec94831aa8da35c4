"""The photo generator the OCR benchmark and tests read: real CJK glyphs, bounded sizes,
the turns a phone makes, values that follow from the seed."""

from __future__ import annotations

import io
import math
from decimal import Decimal

import pytest
from fixtures import photos
from PIL import Image, ImageChops, ImageFont, ImageOps


def _ink(sheet: photos.Sheet, text: str, font: ImageFont.FreeTypeFont | None = None) -> bytes:
    """The pixels of ``text`` drawn alone on a sheet (by the generator, or with ``font``)."""
    if font is None:
        sheet.text(2, 5, text, 6.0)
    else:
        sheet.draw.text((sheet.px(2), sheet.px(5)), text, font=font, fill=photos.INK, anchor="lm")
    return sheet.image.convert("L").tobytes()


def test_the_fonts_are_the_simplified_chinese_faces() -> None:
    assert photos.font("sans", 20).getname() == ("Noto Sans CJK SC", "Regular")
    assert photos.font("serif-bold", 20).getname() == ("Noto Serif CJK SC", "Bold")
    assert photos.font("mono", 20).getname() == ("Noto Sans Mono CJK SC", "Regular")


def test_labels_are_drawn_as_glyphs_not_missing_glyph_boxes() -> None:
    # A font without CJK draws every Chinese character as the same box (or nothing):
    # two different characters come out alike. The generator's come out different,
    # and unlike that font's rendering.
    latin = ImageFont.load_default(size=photos.Sheet(40, 10, 10).px(6.0))
    boxes = [_ink(photos.Sheet(40, 10, 10), char, latin) for char in ("发", "票")]
    drawn = [_ink(photos.Sheet(40, 10, 10), char) for char in ("发", "票")]
    blank = photos.Sheet(40, 10, 10).image.convert("L").tobytes()
    assert boxes[0] == boxes[1]
    assert drawn[0] != drawn[1]
    assert blank not in drawn
    assert boxes[0] not in drawn


@pytest.mark.parametrize("kind", sorted(photos.KINDS))
def test_each_kind_is_drawn_from_its_seed(kind: str) -> None:
    make = photos.KINDS[kind]
    image, expected = make(3)
    again, expected_again = make(3)
    _, other = make(4)
    assert expected == expected_again
    assert ImageChops.difference(image, again).getbbox() is None
    assert other != expected
    assert expected["invoice_number"]
    assert min(image.size) >= 500 and max(image.size) <= 2200  # a phone photo's proportions


def test_money_in_words() -> None:
    assert photos.money_in_words(Decimal("112.20")) == "壹佰壹拾贰圆贰角"
    assert photos.money_in_words(Decimal("10"), "元", "") == "壹拾元"
    assert photos.money_in_words(Decimal("10001.05")) == "壹万零壹圆零伍分"
    assert photos.money_in_words(Decimal("120153.17")) == "壹拾贰万零壹佰伍拾叁圆壹角柒分"


@pytest.mark.parametrize(("scale", "degrees"), [(0.5, 4.0), (0.8, 2.0), (1.0, 0.0)])
def test_distort_keeps_the_size_bounds(scale: float, degrees: float) -> None:
    image, _ = photos.train_ticket(1)
    w, h = image.size
    out = photos.distort(image, 7, rotate_degrees=degrees, scale=scale, blur=0.8, skew=0.05)
    sin, cos = math.sin(math.radians(degrees)), math.cos(math.radians(degrees))
    assert round(w * scale) <= out.width <= w * scale * cos + h * scale * sin + 2
    assert round(h * scale) <= out.height <= h * scale * cos + w * scale * sin + 2
    assert out.mode == "RGB"
    again = photos.distort(image, 7, rotate_degrees=degrees, scale=scale, blur=0.8, skew=0.05)
    assert ImageChops.difference(out, again).getbbox() is None


def test_distort_changes_the_pixels_within_the_frame() -> None:
    image, _ = photos.toll_receipt(2)
    out = photos.distort(image, 1, rotate_degrees=0, skew=0.03, scale=1.0, jpeg_quality=50)
    assert out.size == image.size
    assert ImageChops.difference(out, image).getbbox() is not None


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_jpeg_stores_the_page_turned_and_says_so(orientation: int) -> None:
    image, _ = photos.quota_invoice(1)
    with Image.open(io.BytesIO(photos.exif_jpeg(image, orientation))) as stored:
        assert stored.getexif()[0x0112] == orientation
        sideways = orientation in (6, 8)
        assert stored.size == (image.size[::-1] if sideways else image.size)
        shown = ImageOps.exif_transpose(stored)
    assert shown.size == image.size
    # the page shown upright again: close to the original, far from it turned over
    assert _mean_difference(shown, image) < 1.5
    assert _mean_difference(shown, photos.turn(image, 180)) > 5


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    histogram = ImageChops.difference(a.convert("L"), b.convert("L")).histogram()
    return sum(value * count for value, count in enumerate(histogram)) / (a.width * a.height)


def test_turn_turns_a_quarter_and_a_half() -> None:
    image, _ = photos.taxi_receipt(1)
    assert photos.turn(image, 90).size == image.size[::-1]
    assert photos.turn(image, 270).size == image.size[::-1]
    half = photos.turn(image, 180)
    assert half.size == image.size
    assert half.getpixel((0, 0)) == image.getpixel((image.width - 1, image.height - 1))
