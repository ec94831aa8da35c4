"""OFD pages drawn into pictures (``ofd_render``): paths, fills by their rule, strokes,
images and text, placed by Boundary and CTM, templates under the content; and the bounds
a hostile page meets. Also the page text laid out in lines (``page_layout``)."""

from __future__ import annotations

import io
import time
import zipfile
from xml.etree.ElementTree import Element

import pytest
from fixtures.generate import qr_png

from fapiao.recognize import ofd_render, qr_image, xml
from fapiao.recognize.safezip import SafeZip

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
DPI = 254  # 10 pixels per millimetre: positions below are easy to check
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


def _document(
    content: str,
    *,
    template: str | None = None,
    media: dict[str, bytes] | None = None,
    box: str = "0 0 40 30",
    pages: int = 1,
) -> tuple[SafeZip, Element]:
    reference = '<ofd:Template TemplateID="7"/>' if template else ""
    files = {
        f"Doc_0/Pages/Page_{n}/Content.xml": (
            f"<ofd:Page {NS}>{reference}"
            f"<ofd:Content><ofd:Layer>{content}</ofd:Layer></ofd:Content></ofd:Page>"
        ).encode()
        for n in range(pages)
    }
    if template is not None:
        files["Doc_0/Tpls/T.xml"] = (
            f"<ofd:Page {NS}><ofd:Content><ofd:Layer>{template}</ofd:Layer>"
            "</ofd:Content></ofd:Page>"
        ).encode()
    medias = "".join(
        f'<ofd:MultiMedia ID="{n}" Type="Image"><ofd:MediaFile>{name}</ofd:MediaFile>'
        "</ofd:MultiMedia>"
        for n, name in enumerate(media or {}, 50)
    )
    for name, data in (media or {}).items():
        files[f"Doc_0/Res/{name}"] = data
    files["Doc_0/PublicRes.xml"] = (
        f'<ofd:Res {NS} BaseLoc="Res"><ofd:MultiMedias>{medias}</ofd:MultiMedias></ofd:Res>'
    ).encode()
    page_list = "".join(
        f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(pages)
    )
    files["Doc_0/Document.xml"] = (
        f"<ofd:Document {NS}><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>{box}"
        "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        '<ofd:TemplatePage ID="7" BaseLoc="Tpls/T.xml"/></ofd:CommonData>'
        f"<ofd:Pages>{page_list}</ofd:Pages></ofd:Document>"
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    safe = SafeZip(buffer.getvalue())
    return safe, xml.parse(safe.read("Doc_0/Document.xml"), "Document.xml")


def _render(content: str, **kwargs: object) -> ofd_render.Rendered:
    archive, document = _document(content, **kwargs)  # type: ignore[arg-type]
    rendered = ofd_render.render_page(archive, "Doc_0/Document.xml", document, 1, dpi=DPI)
    assert rendered is not None
    return rendered


def _path(data: str, boundary: str = "0 0 40 30", extra: str = "") -> str:
    return (
        f'<ofd:PathObject ID="1" Boundary="{boundary}" {extra}>'
        f"<ofd:AbbreviatedData>{data}</ofd:AbbreviatedData></ofd:PathObject>"
    )


FILLED = 'Fill="true" Stroke="false"'


def test_the_page_is_its_physical_box_at_the_resolution_asked() -> None:
    rendered = _render("")
    assert rendered.image.size == (400, 300)
    assert rendered.image.mode == "RGB"
    assert rendered.image.getpixel((200, 150)) == WHITE
    assert rendered.notes == []


def test_a_filled_square_of_lines_placed_by_its_boundary() -> None:
    image = _render(_path("M 0 0 L 10 0 L 10 10 L 0 10 C", "5 5 10 10", FILLED)).image
    assert image.getpixel((100, 100)) == BLACK  # 10 mm, 10 mm: inside
    assert image.getpixel((30, 30)) == WHITE  # 3 mm, 3 mm: left of the boundary's origin
    assert image.getpixel((170, 100)) == WHITE  # 17 mm: right of the square


def test_the_ctm_scales_the_object_s_own_space() -> None:
    square = _path("M 0 0 L 5 0 L 5 5 L 0 5 C", "10 10 10 10", FILLED + ' CTM="2 0 0 2 0 0"')
    image = _render(square).image
    assert image.getpixel((195, 195)) == BLACK  # 5 mm scaled to 10: 19.5 mm is inside
    assert image.getpixel((205, 205)) == WHITE


def test_a_fill_colour_from_the_object() -> None:
    red = _path("M 0 0 L 10 0 L 10 10 L 0 10 C", extra=FILLED)
    red = red.replace("<ofd:Abbrev", '<ofd:FillColor Value="200 30 40"/><ofd:Abbrev')
    assert _render(red).image.getpixel((50, 50)) == (200, 30, 40)


@pytest.mark.parametrize(
    ("command", "inside", "outside"),
    [
        # a quarter disc with a cubic Bézier: (2, 2) is under the curve, (9.5, 9.5) is not
        ("M 0 0 L 10 0 B 10 5.5 5.5 10 0 10 C", (20, 20), (95, 95)),
        # a quadratic Bézier bulging to the right
        ("M 0 0 Q 20 5 0 10 C", (50, 50), (150, 50)),
        # a disc of two half arcs, radius 5 around (10, 10)
        ("M 5 10 A 5 5 0 1 1 15 10 A 5 5 0 1 1 5 10 C", (100, 100), (55, 55)),
    ],
)
def test_curves_and_arcs(command: str, inside: tuple[int, int], outside: tuple[int, int]) -> None:
    image = _render(_path(command, extra=FILLED)).image
    assert image.getpixel(inside) == BLACK
    assert image.getpixel(outside) == WHITE


RING_OPPOSITE = "M 0 0 L 20 0 L 20 20 L 0 20 C M 5 5 L 5 15 L 15 15 L 15 5 C"  # hole turns back
RING_SAME = "M 0 0 L 20 0 L 20 20 L 0 20 C M 5 5 L 15 5 L 15 15 L 5 15 C"  # hole turns the same way


@pytest.mark.parametrize(
    ("data", "rule", "hole"),
    [
        (RING_OPPOSITE, "NonZero", WHITE),  # a glyph's outline: its hole stays open
        (RING_SAME, "NonZero", BLACK),  # winding 2 inside: filled
        (RING_SAME, "Even-Odd", WHITE),
        (RING_OPPOSITE, "Even-Odd", WHITE),
    ],
)
def test_fill_rules(data: str, rule: str, hole: tuple[int, int, int]) -> None:
    image = _render(_path(data, extra=f'{FILLED} Rule="{rule}"')).image
    assert image.getpixel((100, 100)) == hole
    assert image.getpixel((20, 20)) == BLACK  # the ring itself


def test_squares_that_touch_leave_no_seam() -> None:
    squares = " ".join(
        f"M {x} {y} L {x + 1} {y} L {x + 1} {y + 1} L {x} {y + 1} C"
        for x in range(10)
        for y in range(10)
    )
    image = _render(_path(squares, extra=FILLED)).image
    seams = [image.getpixel((10 * x, 10 * y)) for x in range(1, 10) for y in range(1, 10)]
    assert set(seams) == {BLACK}


def test_a_stroke_has_its_line_width() -> None:
    line = _path("M 0 0 L 30 0", "5 10 30 1", 'LineWidth="1"')
    image = _render(line).image
    assert image.getpixel((200, 100)) == BLACK
    assert image.getpixel((200, 103)) == BLACK  # within half a millimetre
    assert image.getpixel((200, 110)) == WHITE


def test_a_path_not_drawn_when_invisible_or_stroke_off() -> None:
    hidden = _path("M 0 0 L 10 0 L 10 10 L 0 10 C", extra=FILLED + ' Visible="false"')
    no_stroke = _path("M 0 0 L 30 0", "5 10 30 1", 'Stroke="false" LineWidth="1"')
    assert _render(hidden).image.getpixel((50, 50)) == WHITE
    assert _render(no_stroke).image.getpixel((200, 100)) == WHITE


def test_an_image_resource_placed_by_its_ctm_and_its_qr_code_read() -> None:
    payload = "01,32,,26112000000012345678,123.40,2026-01-22,,AB12"
    png = io.BytesIO()
    qr_png(payload, scale=3).save(png, format="PNG")
    image_object = (
        '<ofd:ImageObject ID="9" Boundary="10 5 20 20" CTM="20 0 0 20 0 0" ResourceID="50"/>'
    )
    rendered = _render(image_object, media={"qr.png": png.getvalue()})
    assert rendered.image.getpixel((50, 150)) == WHITE  # left of the image
    assert qr_image.decode(rendered.image) == [payload]


def test_an_image_format_not_drawn_is_noted() -> None:
    image_object = (
        '<ofd:ImageObject ID="9" Boundary="0 0 10 10" CTM="10 0 0 10 0 0" ResourceID="50"/>'
    )
    rendered = _render(image_object, media={"qr.jb2": b"\x97JB2\r\n\x1a\n" + bytes(32)})
    assert rendered.notes == ["an image in a format not drawn was left out (qr.jb2)"]


def test_the_template_is_drawn_under_the_page() -> None:
    template = _path("M 0 0 L 40 0 L 40 30 L 0 30 C", extra=FILLED)  # the whole page black
    white = _path("M 0 0 L 10 0 L 10 10 L 0 10 C", extra=FILLED).replace(
        "<ofd:Abbrev", '<ofd:FillColor Value="255 255 255"/><ofd:Abbrev'
    )
    image = _render(white, template=template).image
    assert image.getpixel((50, 50)) == WHITE  # the page's square over the template
    assert image.getpixel((300, 200)) == BLACK


def test_text_is_drawn_with_a_cjk_font_when_there_is_one() -> None:
    text = (
        '<ofd:TextObject ID="3" Boundary="2 5 36 10" Size="6">'
        '<ofd:TextCode X="0" Y="7" DeltaX="g 3 6">发票号码</ofd:TextCode></ofd:TextObject>'
    )
    rendered = _render(text)
    if ofd_render._font(20) is None:
        assert rendered.notes == ["text objects are not drawn: no CJK font on this machine"]
        return
    inked = [
        rendered.image.getpixel((x, y)) != WHITE for x in range(20, 260) for y in range(50, 120)
    ]
    assert sum(inked) > 500  # four ideographs of 6 mm
    assert rendered.image.getpixel((300, 250)) == WHITE


def test_a_huge_page_is_drawn_within_the_pixel_bound() -> None:
    rendered = _render("", box="0 0 2000 2000")
    width, height = rendered.image.size
    assert width * height <= ofd_render.MAX_PIXELS
    assert width == height


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (
            _path(" ".join(f"L {i % 40} {i % 30}" for i in range(ofd_render.MAX_POINTS + 10))),
            f"page drawn in part: more than {ofd_render.MAX_POINTS} path points",
        ),
        (
            "".join(_path("M 0 0 L 1 1") for _ in range(ofd_render.MAX_OBJECTS + 1)),
            f"page drawn in part: more than {ofd_render.MAX_OBJECTS} objects",
        ),
        (
            "<ofd:PageBlock>" * 40 + "</ofd:PageBlock>" * 40,
            f"page drawn in part: page blocks nested deeper than {ofd_render.MAX_DEPTH}",
        ),
    ],
    ids=["points", "objects", "nesting"],
)
def test_a_hostile_page_is_drawn_in_part_in_bounded_time(content: str, note: str) -> None:
    started = time.monotonic()
    rendered = _render(content)
    assert rendered.notes == [note]
    assert time.monotonic() - started < ofd_render.DEADLINE_SECONDS + 5


def test_filling_is_bounded_too() -> None:
    # each subpath covers the whole page: the pixels filled run out before they are all done
    count = ofd_render.MAX_FILL_PIXELS // (400 * 300) + 10
    page = " ".join("M 0 0 L 40 0 L 40 30 L 0 30 C" for _ in range(count))
    rendered = _render(_path(page, extra=FILLED))
    assert rendered.notes == [
        f"page drawn in part: filling past {ofd_render.MAX_FILL_PIXELS} pixels"
    ]


def test_a_page_that_does_not_exist_renders_none() -> None:
    archive, document = _document("")
    assert ofd_render.render_page(archive, "Doc_0/Document.xml", document, 2) is None
    assert ofd_render.page_layout(archive, "Doc_0/Document.xml", document, 0) is None


def test_page_text_laid_out_in_lines() -> None:
    content = (
        '<ofd:TextObject ID="1" Boundary="2 5 30 5" Size="3">'
        '<ofd:TextCode X="0" Y="3" DeltaX="g 4 3">发票号码：</ofd:TextCode></ofd:TextObject>'
        '<ofd:TextObject ID="2" Boundary="17.5 5 30 5" Size="3">'
        '<ofd:TextCode X="0" Y="3" DeltaX="g 7 1.5 -9">12345678</ofd:TextCode></ofd:TextObject>'
        '<ofd:TextObject ID="3" Boundary="2 12 30 5" Size="3">'
        '<ofd:TextCode X="0" Y="3" DeltaX="g 4 3">开票日期：</ofd:TextCode></ofd:TextObject>'
    )
    archive, document = _document(content)
    layout = ofd_render.page_layout(archive, "Doc_0/Document.xml", document, 1)
    assert layout is not None
    # top to bottom; the writer's spare offset past the last digit is not a gap
    assert [line.text for line in layout] == ["发票号码：12345678", "开票日期："]
